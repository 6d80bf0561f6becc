import { totalTokens } from "../db/llmCalls";
import { updateRun } from "../db/runs";
import { lastBatchOutcomes } from "../db/training";
import type { Stop } from "../durable/steps";
import { loadRunContext } from "./context";
import { upstreamFailure } from "./upstreamHealth";

/**
 * Decides whether the next batch may start — not when the run was cancelled, has spent its token budget
 * or its upstream keeps failing — and records the run's position (docs/architecture.md §4). Returns
 * why the run stops, or null. `epoch` past the last epoch is the check after the last batch.
 */
export async function checkpoint(env: Env, runId: string, epoch: number, batch: number): Promise<Stop | null> {
  const ctx = await loadRunContext(env, runId);
  if (ctx.run.status === "cancelled") return { status: "cancelled", reason: "cancelled by request", error: null };
  const budget = ctx.params.budgetTokens;
  if (budget !== null && (await totalTokens(ctx.d, runId)) > budget) return { status: "completed", reason: "budget", error: null };
  const failing = upstreamFailure(await lastBatchOutcomes(ctx.d, runId));
  if (failing) return { status: "failed", reason: "upstream_failing", error: failing };
  // The position names the segment and batch at work, for the run's view and for recovery.
  if (epoch <= ctx.params.epochs) await updateRun(ctx.d, runId, { progress: { ...ctx.run.progress, epoch, batch } });
  return null;
}
