import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";
import { totalTokensQuery } from "./llmCalls";
import { recordPositionStatement, runStatusQuery, type RunRow } from "./runs";
import { lastBatchOutcomesQuery, type GroupRow } from "./training";

export type CheckpointReads = {
  status: RunRow["status"] | null;
  lastBatch: Pick<GroupRow, "status" | "reason">[];
  /** Tokens the run has used; null when not asked for (a run without a budget). */
  tokens: number | null;
};

/**
 * What a batch checkpoint reads (src/training/checkpoint.ts) — the run's status, the outcomes of its last
 * batch, its tokens when it has a budget — and, when `position` is given, the batch it is at, written
 * first: one D1 round trip.
 */
export async function checkpointReads(
  d: Db,
  runId: string,
  opts: { tokens: boolean; position: { epoch: number; batch: number } | null },
): Promise<CheckpointReads> {
  const head: BatchItem<"sqlite">[] = opts.position ? [recordPositionStatement(d, runId, opts.position.epoch, opts.position.batch)] : [];
  const reads: BatchItem<"sqlite">[] = [runStatusQuery(d, runId), lastBatchOutcomesQuery(d, runId)];
  if (opts.tokens) reads.push(totalTokensQuery(d, runId));
  const [first, ...rest] = [...head, ...reads];
  if (!first) return { status: null, lastBatch: [], tokens: null };
  const results = (await d.batch([first, ...rest])).slice(head.length) as unknown[];
  const [status, lastBatch, tokens] = results as [
    { status: RunRow["status"] }[],
    CheckpointReads["lastBatch"],
    { n: number }[] | undefined,
  ];
  return { status: status[0]?.status ?? null, lastBatch, tokens: tokens ? (tokens[0]?.n ?? 0) : null };
}
