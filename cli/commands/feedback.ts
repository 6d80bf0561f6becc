import { Command } from "commander";
import type { FeedbackItem } from "../adminClient";
import { context, enc } from "../connection";
import { out, table } from "../output";

type Decision = { feedback: FeedbackItem; sample: { dataset: string; id: string } | null };

/** Review of end-user feedback: nothing sent to /v1/feedback reaches a run before it is approved here. */
export function feedbackCommand(): Command {
  const cmd = new Command("feedback").description(
    "review end-user feedback (pending until approved; only approved feedback becomes training data)",
  );

  cmd
    .command("list")
    .description("list an agent's feedback, newest first")
    .argument("<agent>", "agent name or id")
    .option("--status <status>", "pending, approved or rejected")
    .option("--limit <n>", "at most this many", "100")
    .addHelpText("after", "\nExample:\n  tfgrpo feedback list math --status pending")
    .action(async (agent: string, o: { status?: string; limit: string }, c: Command) => {
      const { api, json } = context(c);
      const { data } = await api.get<{ data: FeedbackItem[] }>(`/agents/${enc(agent)}/feedback`, {
        ...(o.status ? { status: o.status } : {}),
        limit: o.limit,
      });
      out(json, data, () =>
        table(data, [
          ["id", (f) => f.id],
          ["status", (f) => f.status],
          ["request", (f) => f.requestId],
          ["key", (f) => f.keyId],
          ["reward", (f) => (f.reward === null ? null : String(f.reward))],
          ["answer", (f) => (f.answer === null ? null : f.answer.slice(0, 40))],
          ["captured", (f) => (f.captured ? "yes" : "no")],
          ["created", (f) => f.createdAt],
        ]),
      );
    });

  for (const decision of ["approve", "reject"] as const) {
    cmd
      .command(decision)
      .description(
        decision === "approve" ? "approve feedback: its label becomes a sample of <agent>-feedback" : "reject feedback: it is never used",
      )
      .argument("<agent>", "agent name or id")
      .argument("<ids...>", "feedback ids")
      .action(async (agent: string, ids: string[], _o: unknown, c: Command) => {
        const { api, json } = context(c);
        const done: Decision[] = [];
        for (const id of ids) done.push(await api.post<Decision>(`/agents/${enc(agent)}/feedback/${enc(id)}/${decision}`, {}));
        out(json, done, () =>
          done
            .map((d) => `${d.feedback.id}: ${d.feedback.status}${d.sample ? ` → sample ${d.sample.id} of ${d.sample.dataset}` : ""}`)
            .join("\n"),
        );
      });
  }
  return cmd;
}
