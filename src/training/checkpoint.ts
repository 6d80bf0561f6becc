import { checkpointReads } from "../db/checkpoint";
import { db } from "../db/client";
import type { Stop } from "../durable/steps";
import { RunGoneError } from "./context";
import { upstreamFailure } from "./upstreamHealth";

/**
 * Decides whether the next batch may start — not when the run was cancelled, has spent its token budget
 * (`budgetTokens`, null: none) or its upstream keeps failing — and records the run's position
 * (docs/architecture.md §4), in one D1 round trip. Returns why the run stops, or null. An epoch past the
 * last is the check after the last batch, which records no position. The position is recorded even when
 * the run stops there: a stopped run is neither shown live nor recovered.
 */
export async function checkpoint(
  env: Env,
  runId: string,
  at: { epoch: number; batch: number; epochs: number; budgetTokens: number | null },
): Promise<Stop | null> {
  const read = await checkpointReads(db(env.DB), runId, {
    tokens: at.budgetTokens !== null,
    position: at.epoch <= at.epochs ? { epoch: at.epoch, batch: at.batch } : null,
  });
  if (read.status === null) throw new RunGoneError(`run ${runId} no longer exists`);
  if (read.status === "cancelled") return { status: "cancelled", reason: "cancelled by request", error: null };
  if (at.budgetTokens !== null && (read.tokens ?? 0) > at.budgetTokens) return { status: "completed", reason: "budget", error: null };
  const failing = upstreamFailure(read.lastBatch);
  if (failing) return { status: "failed", reason: "upstream_failing", error: failing };
  return null;
}
