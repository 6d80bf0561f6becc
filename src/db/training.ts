import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { batches, groups, rollouts, runs } from "./schema";

export type RolloutRow = typeof rollouts.$inferSelect;
export type GroupRow = typeof groups.$inferSelect;
export type BatchRow = typeof batches.$inferSelect;

/** One rollout row, written in the same D1 batch as the call that produced it (src/training/group.ts). */
export function insertRolloutStatement(d: Db, row: typeof rollouts.$inferInsert) {
  return d.insert(rollouts).values(row).onConflictDoNothing();
}

/** One rollout's summary, written in the same D1 batch as the summary call. */
export function rolloutSummaryStatement(
  d: Db,
  at: { runId: string; epoch: number; sampleIdx: number; rolloutIdx: number },
  summary: string,
) {
  return d
    .update(rollouts)
    .set({ summary })
    .where(
      and(
        eq(rollouts.runId, at.runId),
        eq(rollouts.epoch, at.epoch),
        eq(rollouts.sampleIdx, at.sampleIdx),
        eq(rollouts.rolloutIdx, at.rolloutIdx),
      ),
    );
}

/** A group's rollouts in order, as a query to run alone or in a D1 batch. */
export function groupRolloutsQuery(d: Db, runId: string, epoch: number, sampleIdx: number) {
  return d
    .select()
    .from(rollouts)
    .where(and(eq(rollouts.runId, runId), eq(rollouts.epoch, epoch), eq(rollouts.sampleIdx, sampleIdx)))
    .orderBy(asc(rollouts.rolloutIdx));
}

export async function groupRollouts(d: Db, runId: string, epoch: number, sampleIdx: number): Promise<RolloutRow[]> {
  return groupRolloutsQuery(d, runId, epoch, sampleIdx).all();
}

export async function listRollouts(
  d: Db,
  runId: string,
  filter: { epoch?: number; batch?: number; sample?: number; offset: number; limit: number },
): Promise<RolloutRow[]> {
  const conditions = [eq(rollouts.runId, runId)];
  if (filter.epoch !== undefined) conditions.push(eq(rollouts.epoch, filter.epoch));
  if (filter.batch !== undefined) conditions.push(eq(rollouts.batch, filter.batch));
  if (filter.sample !== undefined) conditions.push(eq(rollouts.sampleIdx, filter.sample));
  return d
    .select()
    .from(rollouts)
    .where(and(...conditions))
    .orderBy(asc(rollouts.epoch), asc(rollouts.batch), asc(rollouts.sampleIdx), asc(rollouts.rolloutIdx))
    .limit(filter.limit)
    .offset(filter.offset)
    .all();
}

/**
 * A group's outcome: the first recorded stands, replays cannot change it. The run's `updated_at` moves
 * with it, so stall detection sees progress within a long batch. To be written in one D1 batch, with the
 * call that decided the outcome when there is one.
 */
export function recordGroupStatements(d: Db, row: typeof groups.$inferInsert) {
  return [
    d.insert(groups).values(row).onConflictDoNothing(),
    d.update(runs).set({ updatedAt: new Date().toISOString() }).where(eq(runs.id, row.runId)),
  ] as const;
}

/** A group's recorded outcome (zero or one row), as a query to run alone or in a D1 batch. */
export function groupQuery(d: Db, runId: string, epoch: number, sampleIdx: number) {
  return d
    .select()
    .from(groups)
    .where(and(eq(groups.runId, runId), eq(groups.epoch, epoch), eq(groups.sampleIdx, sampleIdx)))
    .limit(1);
}

export async function findGroup(d: Db, runId: string, epoch: number, sampleIdx: number): Promise<GroupRow | undefined> {
  return groupQuery(d, runId, epoch, sampleIdx).get();
}

export async function batchGroups(d: Db, runId: string, epoch: number, batch: number): Promise<GroupRow[]> {
  return d
    .select()
    .from(groups)
    .where(and(eq(groups.runId, runId), eq(groups.epoch, epoch), eq(groups.batch, batch)))
    .orderBy(asc(groups.sampleIdx))
    .all();
}

export async function findBatch(d: Db, runId: string, epoch: number, batch: number): Promise<BatchRow | undefined> {
  return d
    .select()
    .from(batches)
    .where(and(eq(batches.runId, runId), eq(batches.epoch, epoch), eq(batches.batch, batch)))
    .get();
}

export async function runBatches(d: Db, runId: string): Promise<BatchRow[]> {
  return d.select().from(batches).where(eq(batches.runId, runId)).orderBy(asc(batches.epoch), asc(batches.batch)).all();
}

export function insertBatchStatement(d: Db, row: typeof batches.$inferInsert) {
  return d.insert(batches).values(row).onConflictDoNothing();
}

export type RunCounts = { rollouts: number; groupsKept: number; groupsSkipped: number; groupsDropped: number };

export async function runCounts(d: Db, runId: string): Promise<RunCounts> {
  const [r, g] = await d.batch([
    d.select({ n: sql<number>`count(*)` }).from(rollouts).where(eq(rollouts.runId, runId)),
    d.select({ status: groups.status, n: sql<number>`count(*)` }).from(groups).where(eq(groups.runId, runId)).groupBy(groups.status),
  ]);
  const by = (s: string) => g.find((x) => x.status === s)?.n ?? 0;
  return { rollouts: r[0]?.n ?? 0, groupsKept: by("kept"), groupsSkipped: by("skipped"), groupsDropped: by("dropped") };
}

/** A run's recorded group outcomes, optionally of one epoch and batch, in (epoch, batch, sample) order. */
export async function listGroups(d: Db, runId: string, filter: { epoch?: number; batch?: number; sample?: number }): Promise<GroupRow[]> {
  const conditions = [eq(groups.runId, runId)];
  if (filter.epoch !== undefined) conditions.push(eq(groups.epoch, filter.epoch));
  if (filter.batch !== undefined) conditions.push(eq(groups.batch, filter.batch));
  if (filter.sample !== undefined) conditions.push(eq(groups.sampleIdx, filter.sample));
  return d
    .select()
    .from(groups)
    .where(and(...conditions))
    .orderBy(asc(groups.epoch), asc(groups.batch), asc(groups.sampleIdx))
    .limit(1000)
    .all();
}

/** The rewards and tool-call counts of a batch's rollouts by sample (the batch update needs nothing else of them). */
export async function batchRewards(
  d: Db,
  runId: string,
  epoch: number,
  batch: number,
): Promise<{ sampleIdx: number; reward: number; toolCalls: number }[]> {
  return d
    .select({ sampleIdx: rollouts.sampleIdx, reward: rollouts.reward, toolCalls: rollouts.toolCalls })
    .from(rollouts)
    .where(and(eq(rollouts.runId, runId), eq(rollouts.epoch, epoch), eq(rollouts.batch, batch)))
    .orderBy(asc(rollouts.sampleIdx), asc(rollouts.rolloutIdx))
    .all();
}

/** Status and reason of every group of the run's most recently finished batch (none before the first), as one query to run in a D1 batch. */
export function lastBatchOutcomesQuery(d: Db, runId: string) {
  const last = d
    .select({ epoch: batches.epoch, batch: batches.batch })
    .from(batches)
    .where(eq(batches.runId, runId))
    .orderBy(desc(batches.epoch), desc(batches.batch))
    .limit(1);
  return d
    .select({ status: groups.status, reason: groups.reason })
    .from(groups)
    .where(and(eq(groups.runId, runId), sql`(${groups.epoch}, ${groups.batch}) = (${last})`));
}
