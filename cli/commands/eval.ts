import { Command } from "commander";
import { isFinished, pollUntil, type AdminClient, type Evaluation, type EvaluationRecovery } from "../adminClient";
import { stallDetector } from "../stall";
import { evaluationProgress } from "../progress";
import { CliError, context, enc, int, num, versionRef } from "../connection";
import { fields, out, pct, table } from "../output";

type WatchOptions = { recoverAfter?: number };
type StartOptions = WatchOptions & {
  agent: string;
  dataset: string;
  versions?: string;
  k?: number;
  temperature?: number;
  seed?: number;
  chunkSize?: number;
  watch?: boolean;
};

const ci = (i: { low: number; high: number } | null | undefined) => (i ? `[${pct(i.low)}, ${pct(i.high)}]` : "–");
const label = (e: Evaluation, v: number) => e.versions.find((x) => x.version === v)?.label ?? (v === 0 ? "none" : `v${v}`);

export function showEvaluation(e: Evaluation): string {
  const parts = [
    fields([
      ["id", e.id],
      ["status", e.status],
      ...(e.error ? ([["error", e.error]] as [string, unknown][]) : []),
      ["agent", e.agentId],
      e.replay
        ? [
            "replayed",
            `${e.replay.captures} captured requests, ${e.replay.judge} judge${e.replay.judgeModel ? ` (${e.replay.judgeModel})` : ""}, no labels`,
          ]
        : ["dataset", e.datasetId],
      ["params", `k=${e.params.k}, temperature ${e.params.temperature}, seed ${e.params.seed}`],
      ["progress", `${e.progress.scored}/${e.progress.total} (${e.progress.questions} questions × ${e.versions.length} versions)`],
    ]),
    "",
    table(e.versions, [
      ["version", (v) => v.label],
      ["questions", (v) => v.questionsDone],
      [`Mean@${e.params.k}`, (v) => pct(v.meanAtK)],
      [`Pass@${e.params.k}`, (v) => pct(v.passAtK)],
      ["95% CI", (v) => ci(v.ci95)],
    ]),
  ];
  if (e.comparisons.length) {
    parts.push(
      "",
      table(e.comparisons, [
        ["version", (c) => label(e, c.version)],
        ["against", (c) => label(e, c.against)],
        ["difference", (c) => (c.diff >= 0 ? "+" : "") + c.diff.toFixed(3)],
        ["paired 95% CI", (c) => ci(c.ci95)],
        ["significant", (c) => (c.ci95 ? c.ci95.low > 0 || c.ci95.high < 0 : null)],
      ]),
    );
  }
  return parts.join("\n");
}

/**
 * Follows an evaluation to its end. With `recoverAfter` (seconds), an evaluation whose progress has not
 * moved for that long is recovered (POST …/recover: its Workflow instances nudged, lost chunk reports
 * re-sent), at most once per period.
 */
async function watchEvaluation(api: AdminClient, id: string, json: boolean, o: WatchOptions = {}): Promise<Evaluation> {
  const bar = evaluationProgress();
  const stalled = o.recoverAfter === undefined ? null : stallDetector(o.recoverAfter * 1000);
  let e: Evaluation;
  try {
    e = await pollUntil(
      () => api.get<Evaluation>(`/evaluations/${enc(id)}`),
      (x) => isFinished(x.status),
      (x) => {
        bar.update(x);
        if (stalled?.(`${x.status} ${x.progress.scored}`, Date.now())) {
          void api.post<EvaluationRecovery>(`/evaluations/${enc(id)}/recover`, {}).then(
            (r) =>
              process.stderr.write(
                `\nno progress for ${o.recoverAfter} s: recovered (${r.evaluation}; ${r.chunks} chunk(s) nudged, ${r.reports} report(s) re-sent)\n`,
              ),
            (error: unknown) =>
              process.stderr.write(
                `\nno progress for ${o.recoverAfter} s: recovery failed (${error instanceof Error ? error.message : String(error)})\n`,
              ),
          );
        }
      },
      1_000,
    );
  } finally {
    bar.stop();
  }
  out(json, e, () => showEvaluation(e));
  if (e.status !== "completed") throw new CliError(`evaluation ${e.id} ended ${e.status}: ${e.error ?? "no reason given"}`);
  return e;
}

const recoverAfterOption = [
  "--recover-after <seconds>",
  "while watching, recover the evaluation when it makes no progress for this long",
  int("--recover-after", 1),
] as const;

function startOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--agent <agent>", "agent name or id")
    .requiredOption("--dataset <dataset>", "data set name or id")
    .option("-k, --k <n>", "samples per question (Mean@k, Pass@k)", int("-k", 1))
    .option("--temperature <t>", "sampling temperature", num("--temperature"))
    .option("--seed <n>", "seed (sample j of a question uses the same seed under every version)", int("--seed"))
    .option("--chunk-size <n>", "questions per child Workflow", int("--chunk-size", 1));
}

async function start(api: AdminClient, o: StartOptions, versions: (number | "none")[]): Promise<{ id: string; status: string }> {
  return api.post<{ id: string; status: string }>("/evaluations", {
    agent: o.agent,
    dataset: o.dataset,
    versions,
    ...(o.k !== undefined ? { k: o.k } : {}),
    ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.chunkSize !== undefined ? { chunkSize: o.chunkSize } : {}),
  });
}

export function evalCommand(): Command {
  const cmd = new Command("eval").description("evaluate library versions (Mean@k, Pass@k, bootstrap intervals, paired differences)");

  startOptions(cmd.command("start").description("start an evaluation"))
    .requiredOption("--versions <list>", 'comma-separated versions; "none" is no library; each is compared with the last')
    .option("--watch", "then watch it until it finishes")
    .option(...recoverAfterOption)
    .addHelpText("after", "\nExample:\n  tfgrpo eval start --agent math --dataset sim-test --versions 3,none -k 4 --watch")
    .action(async (o: StartOptions, c: Command) => {
      const { api, json } = context(c);
      const versions = (o.versions ?? "").split(",").map((v) => versionRef(v.trim()));
      const res = await start(api, o, versions);
      if (o.watch) {
        if (!json) process.stderr.write(`evaluation ${res.id} ${res.status}\n`);
        await watchEvaluation(api, res.id, json, o);
      } else out(json, res, () => `evaluation ${res.id} ${res.status}\nwatch it: tfgrpo eval watch ${res.id}`);
    });

  cmd
    .command("watch")
    .description("follow an evaluation with a progress bar until it finishes, then print its figures")
    .argument("<evaluation>", "evaluation id")
    .option(...recoverAfterOption)
    .action(async (id: string, o: WatchOptions, c: Command) => {
      const { api, json } = context(c);
      await watchEvaluation(api, id, json, o);
    });

  cmd
    .command("recover")
    .description("nudge a stalled evaluation: pause and resume its live Workflow instances, re-send lost chunk reports")
    .argument("<evaluation>", "evaluation id")
    .action(async (id: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const r = await api.post<EvaluationRecovery>(`/evaluations/${enc(id)}/recover`, {});
      out(
        json,
        r,
        () =>
          `evaluation ${r.id}: ${r.evaluation}; chunk instances: ${r.chunks} nudged, ${r.recreated} created, ${r.restarted} restarted; ${r.reports} report(s) re-sent`,
      );
    });

  cmd
    .command("show")
    .description("status and figures of an evaluation")
    .argument("<evaluation>", "evaluation id")
    .action(async (id: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const e = await api.get<Evaluation>(`/evaluations/${enc(id)}`);
      out(json, e, () => showEvaluation(e));
    });

  startOptions(
    cmd.command("compare").description("evaluate two or more versions on common random numbers, wait, and print the paired comparison"),
  )
    .argument("<versions...>", "versions to compare, e.g. 3 none (each is compared with the last)")
    .option(...recoverAfterOption)
    .addHelpText("after", "\nExample:\n  tfgrpo eval compare --agent math --dataset sim-test 3 none")
    .action(async (versions: string[], o: StartOptions, c: Command) => {
      const { api, json } = context(c);
      if (versions.length < 2) throw new CliError("compare needs at least two versions");
      const res = await start(api, o, versions.map(versionRef));
      if (!json) process.stderr.write(`evaluation ${res.id} ${res.status}\n`);
      await watchEvaluation(api, res.id, json, o);
    });

  cmd
    .command("replay")
    .description(
      "compare a candidate with a baseline on the agent's held-out captured traffic, replayed G times each and judged without labels",
    )
    .requiredOption("--agent <agent>", "agent name or id (its capture must be on)")
    .argument("<candidate>", "candidate version")
    .argument("<baseline>", 'baseline version ("none": no library)')
    .option("--sample <n>", "captured requests replayed (default 50)", int("--sample", 1))
    .option("-G, --group-size <n>", "answers per request and version (default 4)", int("-G", 1))
    .option("--judge <kind>", "critique (all answers of a request scored together) or pairwise", "critique")
    .option("--judge-model <model>", "model that judges: the agent's upstream model (default) or one of its allowed models")
    .option("--temperature <t>", "sampling temperature of the replayed answers", num("--temperature"))
    .option("--seed <n>", "seed (which captures, and answer j under both versions)", int("--seed"))
    .option(...recoverAfterOption)
    .addHelpText("after", "\nExample:\n  tfgrpo eval replay --agent math 4 3 --sample 40 -G 4")
    .action(
      async (
        candidate: string,
        baseline: string,
        o: WatchOptions & {
          agent: string;
          sample?: number;
          groupSize?: number;
          judge: string;
          judgeModel?: string;
          temperature?: number;
          seed?: number;
        },
        c: Command,
      ) => {
        const { api, json } = context(c);
        const res = await api.post<{ id: string; status: string }>("/evaluations", {
          kind: "replay",
          agent: o.agent,
          versions: [versionRef(candidate), versionRef(baseline)],
          judge: o.judge,
          ...(o.sample !== undefined ? { sample: o.sample } : {}),
          ...(o.groupSize !== undefined ? { G: o.groupSize } : {}),
          ...(o.judgeModel !== undefined ? { judgeModel: o.judgeModel } : {}),
          ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
        });
        if (!json) process.stderr.write(`evaluation ${res.id} ${res.status}\n`);
        await watchEvaluation(api, res.id, json, o);
      },
    );

  cmd
    .command("list")
    .description("list evaluations, newest first")
    .option("--agent <agent>", "only this agent's")
    .option("--limit <n>", "how many", int("--limit", 1), 20)
    .action(async (o: { agent?: string; limit: number }, c: Command) => {
      const { api, json } = context(c);
      const { data } = await api.get<{ data: Evaluation[] }>("/evaluations", { agent: o.agent, limit: o.limit });
      out(json, data, () =>
        table(data, [
          ["id", (e) => e.id],
          ["status", (e) => e.status],
          ["versions", (e) => e.versions.map((v) => `${v.label} ${pct(v.meanAtK)}`).join(", ")],
          ["k", (e) => e.params.k],
          ["created", (e) => e.createdAt],
        ]),
      );
    });

  return cmd;
}
