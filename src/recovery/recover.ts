import { z } from "zod";
import { chunkPlan, epochPlan, splitBatches } from "../core/batching";
import { itemsToRecover, versionBefore, type BatchVersion } from "../core/recovery";
import { batchesPerSegment, laneMembers, lanesOf, segmentOf, segmentRanges } from "../core/stepBudget";
import { evaluationScoreRows } from "../db/evaluationRows";
import { batchGroups, runBatches } from "../db/training";
import { createInstances } from "../durable/instances";
import { instanceOf, type InstanceHandle } from "../durable/handles";
import {
  chunkDoneEvent,
  chunkInstanceId,
  laneDoneEvent,
  laneInstanceId,
  segmentDoneEvent,
  segmentInstanceId,
  type LaneDone,
  type SegmentDone,
  type TrainingSegmentParams,
} from "../durable/steps";
import { loadRunContext, type RunContext } from "../training/context";
import { loadEvalContext } from "../evaluation/evaluate";
import { sleep } from "../shared/time";

const ENDED = new Set(["complete", "errored", "terminated"]);
const chunkReportSchema = z.object({ ok: z.boolean(), error: z.string().nullable() });
const laneReportSchema = z.object({ groups: z.number().int().min(0), cancelled: z.boolean(), steps: z.number().int().min(0) });
const stopSchema = z.object({ status: z.enum(["completed", "cancelled", "failed"]), reason: z.string(), error: z.string().nullable() });
const segmentReportSchema = z.object({
  version: z.number().int().min(0),
  stop: stopSchema.nullable(),
  steps: z.object({ segment: z.number().int().min(0), lanes: z.number().int().min(0), maxLane: z.number().int().min(0) }),
});

/**
 * Recovery, docs/architecture.md §4: the local engine leaves every instance that was running when `wrangler dev`
 * stopped reporting itself live with no progress, and may have lost what was under way (a spawn, a
 * report). An action starting with "instance " means the parent itself has ended (the cron then records
 * the run or evaluation as failed).
 *
 * Nudges a Workflow instance that reports itself live but makes no progress (the local engine after a
 * restart, docs/architecture.md §4): pause, wait until paused, resume. Completed steps replay from their stored
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

export type Recovery = {
  run: string;
  /** Live segment and lane instances nudged. */
  segments: number;
  lanes: number;
  /** Segment and lane instances created, restarted, and reports re-sent. */
  recreated: number;
  restarted: number;
  reports: number;
};

const noChildren = (): ChildRecovery => ({ nudged: 0, recreated: 0, restarted: 0, reports: 0 });

/**
 * Recovers a stalled run (docs/architecture.md §4). The run's position (epoch, batch, recorded by each
 * batch's checkpoint) names the segment at work and its current batch:
 * - the lanes of that batch, unless the batch is already applied: created when never created, their
 *   reports re-sent to the segment, restarted, or nudged (recoverChild);
 * - the segment: created when never created, its report re-sent to the run when it ended, else nudged;
 *   when it has applied all its batches, the next segment too, whose spawn may be what was lost;
 * - then the run's own instance — created if it never was (the request that started the run was cut
 *   short), nudged otherwise.
 */
export async function recoverRun(env: Env, runId: string): Promise<Recovery> {
  const ctx = await loadRunContext(env, runId);
  const parent = await existing(env.TRAINING_RUN, runId);
  if (!parent) {
    await createInstances(env.TRAINING_RUN, [{ id: runId, params: { runId } }]);
    return { run: "re-created its instance", segments: 0, lanes: 0, recreated: 1, restarted: 0, reports: 0 };
  }
  const { params } = ctx;
  const fromVersion = ctx.run.fromVersion ?? 0;
  const samples = Number(ctx.run.progress.samples ?? 0);
  const epoch = Number(ctx.run.progress.epoch ?? 1);
  const batch = Number(ctx.run.progress.batch ?? 0);
  const each = params.segmentBatches ?? batchesPerSegment(params);
  const ranges = segmentRanges(Math.ceil(samples / params.batchSize), each);
  const applied = await runBatches(ctx.d, runId);
  const isApplied = (e: number, b: number) => applied.some((row) => row.epoch === e && row.batch === b);
  const segments = noChildren();
  const lanes = noChildren();

  const segmentParams = (e: number, k: number): TrainingSegmentParams | null => {
    const range = ranges[k];
    if (!range) return null;
    return {
      runId,
      parentId: runId,
      epoch: e,
      segment: k,
      fromBatch: range.from,
      toBatch: range.to,
      libraryVersion: versionBefore(applied, e, range.from, fromVersion),
      samples,
      seed: params.seed,
      batchSize: params.batchSize,
      maxGroupsInFlight: params.maxGroupsInFlight,
      epochs: params.epochs,
      budgetTokens: params.budgetTokens,
    };
  };
  const recoverSegment = async (s: TrainingSegmentParams, recorded: boolean) =>
    recoverChild(
      env.TRAINING_SEGMENT,
      segmentInstanceId(runId, s.epoch, s.segment),
      recorded,
      async (output) => {
        const stored = segmentReportSchema.safeParse(output);
        // A report rebuilt from D1 counts no steps: the steps shown for the run are then a lower bound.
        const payload: SegmentDone = stored.success
          ? stored.data
          : { version: versionBefore(applied, s.epoch, s.toBatch, fromVersion), stop: null, steps: { segment: 0, lanes: 0, maxLane: 0 } };
        await parent.sendEvent({ type: segmentDoneEvent(s.epoch, s.segment), payload });
      },
      () => createInstances(env.TRAINING_SEGMENT, [{ id: segmentInstanceId(runId, s.epoch, s.segment), params: s }]),
      segments,
    );

  const current = segmentParams(epoch, segmentOf(batch, each));
  if (current) {
    const done = Array.from({ length: current.toBatch - current.fromBatch }, (_, i) => current.fromBatch + i).every((b) =>
      isApplied(epoch, b),
    );
    const segmentId = segmentInstanceId(runId, epoch, current.segment);
    const segment = await existing(env.TRAINING_SEGMENT, segmentId);
    if (segment && !isApplied(epoch, batch))
      await recoverLanes(env, ctx, { id: segmentId, handle: segment }, { epoch, batch, samples, fromVersion, applied }, lanes);
    await recoverSegment(current, done);
    // The segment has applied all its batches: the run's spawn of the next one may be what was lost.
    const next = done ? (segmentParams(epoch, current.segment + 1) ?? (epoch < params.epochs ? segmentParams(epoch + 1, 0) : null)) : null;
    if (next) await recoverSegment(next, false);
  }
  return {
    run: await nudgeInstance(parent),
    segments: segments.nudged,
    lanes: lanes.nudged,
    recreated: segments.recreated + lanes.recreated,
    restarted: segments.restarted + lanes.restarted,
    reports: segments.reports + lanes.reports,
  };
}

/** The lanes of a batch not yet applied: see recoverChild; their reports go to `segment`. */
async function recoverLanes(
  env: Env,
  ctx: RunContext,
  segment: { id: string; handle: InstanceHandle },
  at: { epoch: number; batch: number; samples: number; fromVersion: number; applied: BatchVersion[] },
  done: ChildRecovery,
): Promise<void> {
  const runId = ctx.run.id;
  const { epoch, batch } = at;
  const members = epochPlan(at.samples, ctx.params.seed, epoch, ctx.params.batchSize)[batch] ?? [];
  const recorded = new Set((await batchGroups(ctx.d, runId, epoch, batch)).map((g) => g.sampleIdx));
  const libraryVersion = versionBefore(at.applied, epoch, batch, at.fromVersion);
  const count = lanesOf(members.length, ctx.params.maxGroupsInFlight);
  for (let lane = 0; lane < count; lane++) {
    const sampleIdxs = laneMembers(members, count, lane);
    const id = laneInstanceId(runId, epoch, batch, lane);
    await recoverChild(
      env.ROLLOUT_LANE,
      id,
      sampleIdxs.every((s) => recorded.has(s)),
      async (output) => {
        const stored = laneReportSchema.safeParse(output);
        const payload: LaneDone = stored.success ? stored.data : { groups: sampleIdxs.length, cancelled: false, steps: 0 };
        await segment.handle.sendEvent({ type: laneDoneEvent(epoch, batch, lane), payload });
      },
      () =>
        createInstances(env.ROLLOUT_LANE, [
          { id, params: { runId, parentId: segment.id, epoch, batch, lane, sampleIdxs, libraryVersion } },
        ]),
      done,
    );
  }
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
  const chunks = chunkPlan(ctx.params.samples, ctx.params.chunkSize).map((sampleIdxs, chunk) => ({ chunk, sampleIdxs }));
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

/** One line for logs and the recoveries table, e.g. "pause+resume (was running); 3 chunk instance(s) re-created". */
export function describeRecovery(
  action: string,
  kind: "chunk",
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

/** The same line for a run: its segment and lane instances nudged, and the children created, restarted or reporting again. */
export function describeRunRecovery(r: Recovery): string {
  const parts = [
    r.segments > 0 ? `${r.segments} segment instance(s) nudged` : "",
    r.lanes > 0 ? `${r.lanes} lane instance(s) nudged` : "",
    r.recreated > 0 ? `${r.recreated} child instance(s) re-created` : "",
    r.restarted > 0 ? `${r.restarted} child instance(s) restarted` : "",
    r.reports > 0 ? `${r.reports} child report(s) re-sent` : "",
  ].filter(Boolean);
  return [r.run, ...parts].join("; ");
}
