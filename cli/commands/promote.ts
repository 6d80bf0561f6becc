import { Command } from "commander";
import { context, enc, versionRef } from "../connection";
import { out, table } from "../output";

type Promotion = {
  id: string;
  decidedBy: string;
  decision: string;
  fromVersion: number | null;
  toVersion: number | null;
  reason: string;
  warnings: string[];
  createdAt: string;
};

export function promoteCommand(): Command {
  const cmd = new Command("promote")
    .description("serve a library version (also the rollback; 'none' serves no library)")
    .argument("<agent>", "agent name or id")
    .argument("[version]", "library version number, or none")
    .option("--reason <text>", "recorded with the decision")
    .option("--history", "list the agent's promotion decisions instead")
    .addHelpText(
      "after",
      "\nExamples:\n  tfgrpo promote math 3\n  tfgrpo promote math none --reason rollback\n  tfgrpo promote math --history",
    )
    .action(async (agent: string, version: string | undefined, o: { reason?: string; history?: boolean }, c: Command) => {
      const { api, json } = context(c);
      if (o.history || version === undefined) {
        const res = await api.get<{ active: number | null; data: Promotion[] }>(`/agents/${enc(agent)}/promotions`);
        out(json, res, () =>
          [
            `active version: ${res.active ?? "none"}`,
            table(res.data, [
              ["when", (p) => p.createdAt],
              ["by", (p) => p.decidedBy],
              ["decision", (p) => p.decision],
              ["from", (p) => p.fromVersion ?? "none"],
              ["to", (p) => p.toVersion ?? "none"],
              ["reason", (p) => [p.reason, ...p.warnings.map((w) => `warning: ${w}`)].join("; ")],
            ]),
          ].join("\n"),
        );
        return;
      }
      const v = versionRef(version);
      const res = await api.post<Promotion>(`/agents/${enc(agent)}/promote`, {
        version: v === "none" ? 0 : v,
        ...(o.reason ? { reason: o.reason } : {}),
      });
      out(json, res, () =>
        [
          `${agent}: serving ${res.toVersion === null ? "no library" : `version ${res.toVersion}`} (was ${res.fromVersion ?? "none"})`,
          ...res.warnings.map((w) => `warning: ${w}`),
        ].join("\n"),
      );
    });
  return cmd;
}
