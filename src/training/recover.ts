import { z } from "zod";
import { seededShuffle, splitBatches } from "../core/batching";
import { itemsToRecover, versionBefore } from "../core/recovery";
import { evaluationScoreRows } from "../db/evaluations";
import { batchGroups, runBatches } from "../db/training";
import { createInstances } from "../../workflows/engine";
import { instanceOf, type InstanceHandle } from "../../workflows/handles";
import { chunkDoneEvent, chunkInstanceId, groupDoneEvent, groupInstanceId, type GroupDone } from "../../workflows/steps";
import { loadRunContext } from "./context";
import { loadEvalContext } from "./evaluate";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ENDED = new Set(["complete", "errored", "terminated"]);
const chunkReportSchema = z.object({ ok: z.boolean(), error: z.string().nullable() });
const groupReportSchema = z.object({ outcome: z.string(), steps: z.number().int().min(0) });

/**
 * Recovery, DESIGN §4: the local engine leaves every instance that was running when `wrangler dev`
 * stopped reporting itself live with no progress, and may have lost what was under way (a spawn, a
 * report). An action starting with "instance " means the parent itself has ended (the cron then records
 * the run or evaluation as failed).
 *
 * Nudges a Workflow instance that reports itself live but makes no progress (the local engine after a
 * restart, DESIGN §4): pause, wait until paused, resume. Completed steps replay from their stored
 * results; only the interrupted step runs again, and our steps are idempotent. Returns what was done.
 */
export async function nudgeInstance(instance: InstanceHandle): Promise<string> {
  const before = (await instance.status()).status;
  if (ENDED.has(before)) return `instance ${before}`;
  if (before !== "paused") {
    await instance.pause();
    for (let i = 0; i < 50 && (await instance.status()).status !== "paused"; i++) await sleep(100);
  }
  await instance.resume();
  return `pause+resume (was ${before})`;
}

/** What a recovery did besides nudging the parent: children nudged, re-created, restarted, reports re-sent. */
export type ChildRecovery = { nudged: number; recreated: number; restarted: number; reports: number };

/** The instance, or null when the engine has none under that id (its creation never took place). */
const existing = (workflow: Workflow<unknown>, id: string) => instanceOf(workflow, id).catch(() => null);

/**
 * Looks after one child instance of an interrupted parent:
 * - missing and without an outcome (its creation never happened, e.g. a wave spawn cut short): created;
 * - ended (complete, errored, terminated) with an outcome: its report is sent again — a report lost
 *   on the way would keep the parent waiting for hours, and a duplicate is never read, as each report
 *   is waited for once;
 * - ended without an outcome: restarted; it replays from its first step, and every LLM call it had
 *   paid for is stored, so nothing is paid twice;
 * - live: nudged.
 */
async function recoverChild(
  workflow: Workflow<unknown>,
  id: string,
  recorded: boolean,
  report: (output: unknown) => Promise<void>,
  create: () => Promise<void>,
  done: ChildRecovery,
): Promise<void> {
  const child = await existing(workflow, id);
  if (!child) {
    if (recorded) {
      await report(null);
      done.reports++;
    } else {
      await create();
      done.recreated++;
    }
    return;
  }
  const { status, output } = await child.status();
  if (ENDED.has(status)) {
    if (recorded || status === "complete") {
      await report(output);
      done.reports++;
    } else {
      await child.restart();
      done.restarted++;
    }
  } else if ((await nudgeInstance(child)).startsWith("pause")) {
    done.nudged++;
  }
}

export type Recovery = { run: string; groups: number; recreated: number; restarted: number; reports: number };

/**
 * Recovers a stalled run: the group instances of its current batch (src/core/recovery.ts says which),
 * then its own instance — created if it never was (the request that started the run was cut short),
 * nudged otherwise.
 */
export async function recoverRun(env: Env, runId: string): Promise<Recovery> {
  const ctx = await loadRunContext(env, runId);
  const fromVersion = ctx.run.fromVersion ?? 0;
  const parent = await existing(env.TRAINING_RUN, runId);
  if (!parent) {
    await createInstances(env.TRAINING_RUN, [{ id: runId, params: { runId } }]);
    return { run: "re-created its instance", groups: 0, recreated: 1, restarted: 0, reports: 0 };
  }
  const epoch = Number(ctx.run.progress.epoch ?? 1);
  const batch = Number(ctx.run.progress.batch ?? 0);
  const samples = Number(ctx.run.progress.samples ?? 0);
  const members = splitBatches(seededShuffle(samples, ctx.params.seed, epoch), ctx.params.batchSize)[batch] ?? [];
  const outcomes = new Map((await batchGroups(ctx.d, runId, epoch, batch)).map((g) => [g.sampleIdx, g.status]));
  const libraryVersion = versionBefore(await runBatches(ctx.d, runId), epoch, batch, fromVersion);
  const done: ChildRecovery = { nudged: 0, recreated: 0, restarted: 0, reports: 0 };
  const waves = splitBatches(members, ctx.params.maxGroupsInFlight);
  for (const { item: sampleIdx, recorded } of itemsToRecover(waves, (s) => outcomes.has(s))) {
    const id = groupInstanceId(runId, epoch, sampleIdx);
    await recoverChild(
      env.ROLLOUT_GROUP,
      id,
      recorded,
      async (output) => {
        const stored = groupReportSchema.safeParse(output);
        // A report rebuilt from D1 counts no steps: the step budget shown for the run is then a lower bound.
        const payload: GroupDone = stored.success ? stored.data : { outcome: outcomes.get(sampleIdx) ?? "dropped", steps: 0 };
        await parent.sendEvent({ type: groupDoneEvent(epoch, sampleIdx), payload });
      },
      () => createInstances(env.ROLLOUT_GROUP, [{ id, params: { runId, parentId: runId, epoch, batch, sampleIdx, libraryVersion } }]),
      done,
    );
  }
  return {
    run: await nudgeInstance(parent),
    groups: done.nudged,
    recreated: done.recreated,
    restarted: done.restarted,
    reports: done.reports,
  };
}

export type EvaluationRecovery = { evaluation: string; chunks: number; reports: number; recreated: number; restarted: number };

/**
 * Recovers a stalled evaluation the same way: its chunk instances up to the first wave with a question
 * not scored under every version, then its own instance.
 */
export async function recoverEvaluation(env: Env, evaluationId: string): Promise<EvaluationRecovery> {
  const ctx = await loadEvalContext(env, evaluationId);
  const parent = await existing(env.EVALUATION, evaluationId);
  if (!parent) {
    // A gate's or a protocol's evaluation is created inside a step of its parent, which creates it
    // again when it replays; only an evaluation started by a request (which reports to no one) is ours.
    if (ctx.evaluation.purpose !== "manual")
      return {
        evaluation: `left to its ${ctx.evaluation.purpose}, which creates its instance when it resumes`,
        chunks: 0,
        reports: 0,
        recreated: 0,
        restarted: 0,
      };
    await createInstances(env.EVALUATION, [{ id: evaluationId, params: { evaluationId, notify: null } }]);
    return { evaluation: "re-created its instance", chunks: 0, reports: 0, recreated: 1, restarted: 0 };
  }
  const scored = new Set((await evaluationScoreRows(ctx.d, evaluationId)).map((r) => `${r.version}:${r.sampleIdx}`));
  const questions = Array.from({ length: ctx.params.samples }, (_, i) => i);
  const chunks = splitBatches(questions, ctx.params.chunkSize).map((sampleIdxs, chunk) => ({ chunk, sampleIdxs }));
  const complete = (c: { sampleIdxs: number[] }) =>
    c.sampleIdxs.every((i) => ctx.evaluation.versions.every((v) => scored.has(`${v}:${i}`)));
  const done: ChildRecovery = { nudged: 0, recreated: 0, restarted: 0, reports: 0 };
  for (const { item, recorded } of itemsToRecover(splitBatches(chunks, ctx.params.maxChunksInFlight), complete)) {
    const { chunk, sampleIdxs } = item;
    await recoverChild(
      env.EVALUATION_CHUNK,
      chunkInstanceId(evaluationId, chunk),
      recorded,
      async (output) => {
        const stored = chunkReportSchema.safeParse(output);
        const payload = stored.success
          ? stored.data
          : { ok: recorded, error: recorded ? null : `chunk ${chunk}: its Workflow instance ended without scoring every question` };
        await parent.sendEvent({ type: chunkDoneEvent(chunk), payload });
      },
      () =>
        createInstances(env.EVALUATION_CHUNK, [
          { id: chunkInstanceId(evaluationId, chunk), params: { evaluationId, parentId: evaluationId, chunk, sampleIdxs } },
        ]),
      done,
    );
  }
  return {
    evaluation: await nudgeInstance(parent),
    chunks: done.nudged,
    reports: done.reports,
    recreated: done.recreated,
    restarted: done.restarted,
  };
}

/** One line for logs and the recoveries table, e.g. "pause+resume (was running); 3 group instance(s) re-created". */
export function describeRecovery(
  action: string,
  kind: "group" | "chunk",
  r: { nudged: number; recreated: number; restarted: number; reports: number },
): string {
  const parts = [
    r.nudged > 0 ? `${r.nudged} ${kind} instance(s) nudged` : "",
    r.recreated > 0 ? `${r.recreated} ${kind} instance(s) re-created` : "",
    r.restarted > 0 ? `${r.restarted} ${kind} instance(s) restarted` : "",
    r.reports > 0 ? `${r.reports} ${kind} report(s) re-sent` : "",
  ].filter(Boolean);
  return [action, ...parts].join("; ");
}
