import { seededShuffle, splitBatches } from "../core/batching";
import { findGroup } from "../db/training";
import { groupInstanceId } from "../../workflows/steps";
import { loadRunContext } from "./context";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Instance = { status(): Promise<InstanceStatus>; pause(): Promise<void>; resume(): Promise<void> };

/**
 * Nudges a Workflow instance that reports itself live but makes no progress (the local engine after a
 * restart, DESIGN §4): pause, wait until paused, resume. Completed steps replay from their stored
 * results; only the interrupted step runs again, and our steps are idempotent. Returns what was done.
 */
export async function nudgeInstance(instance: Instance): Promise<string> {
  const before = (await instance.status()).status;
  if (before === "errored" || before === "terminated" || before === "complete") return `instance ${before}`;
  if (before !== "paused") {
    await instance.pause();
    for (let i = 0; i < 50 && (await instance.status()).status !== "paused"; i++) await sleep(100);
  }
  await instance.resume();
  return `pause+resume (was ${before})`;
}

export type Recovery = { run: string; groups: number };

/** Recovers a stalled run: its parent instance and every group of the current batch that has not reported. */
export async function recoverRun(env: Env, runId: string): Promise<Recovery> {
  const ctx = await loadRunContext(env, runId);
  const epoch = Number(ctx.run.progress.epoch ?? 1);
  const batch = Number(ctx.run.progress.batch ?? 0);
  const samples = Number(ctx.run.progress.samples ?? 0);
  const members = splitBatches(seededShuffle(samples, ctx.params.seed, epoch), ctx.params.batchSize)[batch] ?? [];
  let groups = 0;
  for (const sampleIdx of members) {
    if (await findGroup(ctx.d, runId, epoch, sampleIdx)) continue;
    const child = await env.ROLLOUT_GROUP.get(groupInstanceId(runId, epoch, sampleIdx)).catch(() => null);
    if (child && (await nudgeInstance(child)).startsWith("pause")) groups++;
  }
  return { run: await nudgeInstance(await env.TRAINING_RUN.get(runId)), groups };
}
