import { z } from "zod";
import { chunkPlan, epochPlan } from "../core/batching";
import { evaluationScoreRows } from "../db/evaluationRows";
import { findGroup } from "../db/training";
import { chunkDoneEvent, chunkInstanceId, groupInstanceId } from "../durable/steps";
import { loadRunContext } from "../training/context";
import { loadEvalContext } from "../evaluation/evaluate";
import { sleep } from "../shared/time";


type Instance = { status(): Promise<InstanceStatus>; pause(): Promise<void>; resume(): Promise<void> };

const chunkReportSchema = z.object({ ok: z.boolean(), error: z.string().nullable() });

/**
 * Nudges a Workflow instance that reports itself live but makes no progress (the local engine after a
 * restart, docs/architecture.md §4): pause, wait until paused, resume. Completed steps replay from their stored
 * results; only the interrupted step runs again, and our steps are idempotent. Returns what was done.
 */
async function nudgeInstance(instance: Instance): Promise<Nudge> {
  const before = (await instance.status()).status;
  if (before === "errored" || before === "terminated" || before === "complete") return { resumed: false, was: before };
  if (before !== "paused") {
    await instance.pause();
    for (let i = 0; i < 50 && (await instance.status()).status !== "paused"; i++) await sleep(100);
  }
  await instance.resume();
  return { resumed: true, was: before };
}

/** What a nudge did: paused (if needed) and resumed an instance, or left an ended one alone. */
type Nudge = { resumed: boolean; was: InstanceStatus["status"] };

/** The nudge in words, as the recovery routes and the cron log report it. */
const describeNudge = (n: Nudge): string => (n.resumed ? `pause+resume (was ${n.was})` : `instance ${n.was}`);

export type Recovery = { run: string; groups: number };

/** Recovers a stalled run: its parent instance and every group of the current batch that has not reported. */
export async function recoverRun(env: Env, runId: string): Promise<Recovery> {
  const ctx = await loadRunContext(env, runId);
  const epoch = Number(ctx.run.progress.epoch ?? 1);
  const batch = Number(ctx.run.progress.batch ?? 0);
  const samples = Number(ctx.run.progress.samples ?? 0);
  const members = epochPlan(samples, ctx.params.seed, epoch, ctx.params.batchSize)[batch] ?? [];
  let groups = 0;
  for (const sampleIdx of members) {
    if (await findGroup(ctx.d, runId, epoch, sampleIdx)) continue;
    const child = await env.ROLLOUT_GROUP.get(groupInstanceId(runId, epoch, sampleIdx)).catch(() => null);
    if (child && (await nudgeInstance(child)).resumed) groups++;
  }
  return { run: describeNudge(await nudgeInstance(await env.TRAINING_RUN.get(runId))), groups };
}

export type EvaluationRecovery = { evaluation: string; chunks: number; reports: number };

/**
 * Recovers a stalled evaluation. A live chunk instance is nudged; a chunk instance that has ended while
 * its parent still waits has its report sent (again): a lost report would leave the parent waiting
 * for hours, while a duplicate is never read, as each chunk's event is waited for once. Then the parent
 * is nudged.
 *
 * Only chunks known to be spawned are looked up, because looking up an id the local engine has never
 * seen leaves a stub that a later create would take for the instance (src/durable/instances.ts). Waves are
 * spawned one after another, so every chunk of a wave up to the last one with a stored score exists.
 */
export async function recoverEvaluation(env: Env, evaluationId: string): Promise<EvaluationRecovery> {
  const ctx = await loadEvalContext(env, evaluationId);
  const parent = await env.EVALUATION.get(evaluationId);
  const scores = await evaluationScoreRows(ctx.d, evaluationId);
  const scored = new Set(scores.map((r) => `${r.version}:${r.sampleIdx}`));
  const questionsPerWave = ctx.params.chunkSize * ctx.params.maxChunksInFlight;
  const lastScored = scores.reduce((max, r) => Math.max(max, r.sampleIdx), -1);
  const spawnedWaves = lastScored < 0 ? 0 : Math.floor(lastScored / questionsPerWave) + 1;
  const spawned = chunkPlan(ctx.params.samples, ctx.params.chunkSize).slice(0, spawnedWaves * ctx.params.maxChunksInFlight);
  let chunks = 0;
  let reports = 0;
  for (const [chunk, sampleIdxs] of spawned.entries()) {
    const child = await env.EVALUATION_CHUNK.get(chunkInstanceId(evaluationId, chunk));
    const { status, output } = await child.status();
    if (status === "complete" || status === "errored" || status === "terminated") {
      const complete = sampleIdxs.every((i) => ctx.evaluation.versions.every((v) => scored.has(`${v}:${i}`)));
      const stored = chunkReportSchema.safeParse(output);
      const payload = stored.success ? stored.data : { ok: complete, error: complete ? null : `chunk ${chunk}: its Workflow instance is ${status}` };
      await parent.sendEvent({ type: chunkDoneEvent(chunk), payload });
      reports++;
    } else if ((await nudgeInstance(child)).resumed) {
      chunks++;
    }
  }
  return { evaluation: describeNudge(await nudgeInstance(parent)), chunks, reports };
}
