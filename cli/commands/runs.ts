import { Command } from "commander";
import { isFinished, pollUntil, runTokens, type AdminClient, type Run, type RunRecovery } from "../adminClient";
import { meanTrail, runProgress } from "../progress";
import { CliError, context, enc, int, num } from "../connection";
import { fields, out, pct, table } from "../output";

type StartOptions = {
  agent: string;
  dataset: string;
  epochs?: number;
  groupSize?: number;
  batchSize?: number;
  temperature?: number;
  maxGroupsInFlight?: number;
  experiencesPerGroup?: number;
  maxExperiences?: number;
  seed?: number;
  fromVersion?: number;
  budgetTokens?: number;
  watch?: boolean;
};

export function showRun(r: Run): string {
  const p = r.progress;
  return [
    fields([
      ["id", r.id],
      ["status", r.status + (r.reason ? ` (${r.reason})` : "")],
      ...(r.error ? ([["error", r.error]] as [string, unknown][]) : []),
      ["agent", r.agentId],
      ["dataset", r.datasetId],
      ["params", `epochs ${r.params.epochs}, batch ${r.params.batchSize}, G=${r.params.groupSize}`],
      [
        "progress",
        `epoch ${p.epoch ?? "–"}/${p.epochs}, ${p.groupsDone}/${p.groupsTotal} groups, ${p.rolloutsDone}/${p.rolloutsTotal} rollouts`,
      ],
      ["groups", `kept ${r.groups.kept}, skipped ${r.groups.skipped}, dropped ${r.groups.dropped}`],
      ["versions", `from ${r.fromVersion ?? 0} → latest ${r.latestVersion ?? "–"}`],
      ["Mean@G", meanTrail(r)],
      ["tokens", runTokens(r)],
      ["created", r.createdAt],
      ["updated", r.updatedAt],
    ]),
    "",
    table(r.batches, [
      ["epoch", (b) => b.epoch],
      ["batch", (b) => b.batch],
      ["status", (b) => b.status],
      ["Mean@G", (b) => pct(b.meanAtG)],
      ["Pass@G", (b) => pct(b.passAtG)],
      ["kept", (b) => b.groupsKept],
      ["skipped", (b) => b.groupsSkipped],
      ["dropped", (b) => b.groupsDropped],
      [
        "ops",
        (b) =>
          Object.entries(b.operations)
            .map(([k, v]) => `${k} ${v}`)
            .join(", "),
      ],
      ["version", (b) => b.version],
    ]),
  ].join("\n");
}

/** Polls a run with a progress bar until it finishes; fails unless it completed. */
export async function watchRun(api: AdminClient, id: string, json: boolean): Promise<Run> {
  const bar = runProgress();
  let run: Run;
  try {
    run = await pollUntil(
      () => api.get<Run>(`/runs/${enc(id)}`),
      (r) => isFinished(r.status),
      (r) => bar.update(r),
      1_000,
    );
  } finally {
    bar.stop();
  }
  out(
    json,
    run,
    () => `run ${run.id} ${run.status}: library version ${run.latestVersion ?? "–"}, Mean@G ${meanTrail(run)}, ${runTokens(run)} tokens`,
  );
  if (run.status !== "completed") throw new CliError(`run ${run.id} ended ${run.status}: ${run.error ?? run.reason ?? "no reason given"}`);
  return run;
}

export function runsCommand(): Command {
  const cmd = new Command("runs").description("start, watch, cancel and show training runs");

  cmd
    .command("start")
    .description("start a training run (hyperparameters default to the agent's, then the paper's)")
    .requiredOption("--agent <agent>", "agent name or id")
    .requiredOption("--dataset <dataset>", "data set name or id")
    .option("--epochs <n>", "epochs", int("--epochs", 1))
    .option("--group-size <n>", "rollouts per question (G)", int("--group-size", 1))
    .option("--batch-size <n>", "questions per batch", int("--batch-size", 1))
    .option("--temperature <t>", "rollout temperature", num("--temperature"))
    .option("--max-groups-in-flight <n>", "concurrency bound", int("--max-groups-in-flight", 1))
    .option("--experiences-per-group <n>", "experiences per group", int("--experiences-per-group", 1))
    .option("--max-experiences <n>", "library cap", int("--max-experiences", 1))
    .option("--seed <n>", "run seed", int("--seed"))
    .option("--from-version <n>", "warm start (default: the active version; 0 for empty)", int("--from-version"))
    .option("--budget-tokens <n>", "stop after this many tokens", int("--budget-tokens", 1))
    .option("--watch", "then watch it until it finishes")
    .addHelpText("after", "\nExample:\n  tfgrpo runs start --agent math --dataset sim-train --epochs 3 --group-size 5 --watch")
    .action(async (o: StartOptions, c: Command) => {
      const { api, json } = context(c);
      const { watch, ...body } = o;
      const res = await api.post<{ id: string; status: string }>("/runs", body);
      if (watch) {
        if (!json) process.stderr.write(`run ${res.id} ${res.status}\n`);
        await watchRun(api, res.id, json);
      } else out(json, res, () => `run ${res.id} ${res.status}\nwatch it: tfgrpo runs watch ${res.id}`);
    });

  cmd
    .command("watch")
    .description("follow a run with a progress bar until it finishes (non-zero exit unless it completed)")
    .argument("<run>", "run id")
    .action(async (id: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      await watchRun(api, id, json);
    });

  cmd
    .command("show")
    .description("status, progress, per-batch metrics and usage of a run")
    .argument("<run>", "run id")
    .action(async (id: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const run = await api.get<Run>(`/runs/${enc(id)}`);
      out(json, run, () => showRun(run));
    });

  cmd
    .command("list")
    .description("list runs, newest first")
    .option("--agent <agent>", "only this agent's")
    .option("--limit <n>", "how many", int("--limit", 1), 20)
    .action(async (o: { agent?: string; limit: number }, c: Command) => {
      const { api, json } = context(c);
      const { data } = await api.get<{ data: Run[] }>("/runs", { agent: o.agent, limit: o.limit });
      out(json, data, () =>
        table(data, [
          ["id", (r) => r.id],
          ["status", (r) => r.status],
          ["agent", (r) => r.agentId],
          ["groups", (r) => `${r.progress.groupsDone}/${r.progress.groupsTotal}`],
          ["Mean@G", (r) => meanTrail(r)],
          ["version", (r) => r.latestVersion],
          ["created", (r) => r.createdAt],
        ]),
      );
    });

  cmd
    .command("cancel")
    .description("cancel a run (versions already made are kept)")
    .argument("<run>", "run id")
    .action(async (id: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const res = await api.post<{ id: string; status: string }>(`/runs/${enc(id)}/cancel`);
      out(json, res, () => `run ${res.id} ${res.status}`);
    });

  cmd
    .command("recover")
    .description(
      "recover a stalled run: nudge its Workflow instances, create the segment and lane instances that never were, re-send lost reports",
    )
    .argument("<run>", "run id")
    .action(async (id: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const res = await api.post<RunRecovery>(`/runs/${enc(id)}/recover`);
      out(
        json,
        res,
        () =>
          `run ${res.id}: ${res.run}; segment instances nudged: ${res.segments}, lane instances nudged: ${res.lanes}; children ${res.recreated} created, ${res.restarted} restarted; ${res.reports} report(s) re-sent`,
      );
    });

  return cmd;
}
