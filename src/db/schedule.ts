import { and, eq, inArray, isNotNull, sql } from "drizzle-orm";
import { newId } from "../auth/crypto";
import type { Db } from "./client";
import { agents, datasets, recoveries, runs, samples, scheduledRuns } from "./schema";

export type ScheduledRunRow = typeof scheduledRuns.$inferSelect;

export async function scheduledAgents(d: Db) {
  return d.select().from(agents).where(isNotNull(agents.schedule)).all();
}

/**
 * Claims (agent, period): true for exactly one caller, however many cron invocations race for it
 * (the primary key is the lock).
 */
export async function claimPeriod(d: Db, agentId: string, period: number): Promise<boolean> {
  const claimed = await d
    .insert(scheduledRuns)
    .values({ agentId, period, status: "starting" })
    .onConflictDoNothing()
    .returning({ period: scheduledRuns.period });
  return claimed.length === 1;
}

export async function updateScheduledRun(
  d: Db,
  agentId: string,
  period: number,
  patch: Partial<typeof scheduledRuns.$inferInsert>,
): Promise<void> {
  await d
    .update(scheduledRuns)
    .set(patch)
    .where(and(eq(scheduledRuns.agentId, agentId), eq(scheduledRuns.period, period)));
}

export async function listScheduledRuns(d: Db, agentId: string): Promise<ScheduledRunRow[]> {
  return d.select().from(scheduledRuns).where(eq(scheduledRuns.agentId, agentId)).orderBy(scheduledRuns.period).all();
}

/**
 * A frozen training set for one scheduled run: every sample of `trainDatasetId`, then every sample of
 * the feedback set (if any), renumbered after them. Idempotent by name: a retry finds the snapshot
 * it already made. Three statements in one batch, whatever the size (no bound-parameter limit).
 */
export async function snapshotDataset(
  d: Db,
  meta: { name: string; description: string },
  trainDatasetId: string,
  feedbackDatasetId: string | null,
): Promise<{ id: string; sampleCount: number; feedbackSamples: number }> {
  const existing = await d.select().from(datasets).where(eq(datasets.name, meta.name)).get();
  const id = existing?.id ?? newId("ds");
  if (!existing) {
    const c = d.$client;
    await c.batch([
      c
        .prepare("insert into datasets (id, name, source, description, sample_count, state) values (?1, ?2, 'feedback', ?3, 0, 'loading')")
        .bind(id, meta.name, meta.description),
      c
        .prepare(
          "insert into samples (dataset_id, idx, sample_id, question, answer, extras) select ?1, idx, sample_id, question, answer, extras from samples where dataset_id = ?2",
        )
        .bind(id, trainDatasetId),
      c
        .prepare(
          `insert into samples (dataset_id, idx, sample_id, question, answer, extras)
           select ?1, (select count(*) from samples where dataset_id = ?2) + row_number() over (order by idx) - 1, sample_id, question, answer, extras
           from samples where dataset_id = ?3 and sample_id not in (select sample_id from samples where dataset_id = ?2)`,
        )
        .bind(id, trainDatasetId, feedbackDatasetId ?? ""),
      c
        .prepare("update datasets set state = 'ready', sample_count = (select count(*) from samples where dataset_id = ?1) where id = ?1")
        .bind(id),
    ]);
  }
  const row = await d.select({ n: datasets.sampleCount }).from(datasets).where(eq(datasets.id, id)).get();
  const train = await d.select({ n: sql<number>`count(*)` }).from(samples).where(eq(samples.datasetId, trainDatasetId)).get();
  const total = row?.n ?? 0;
  return { id, sampleCount: total, feedbackSamples: Math.max(0, total - (train?.n ?? 0)) };
}

/** Runs still queued or running whose last progress is older than `before` (ISO), oldest first. */
export async function stalledRuns(d: Db, before: string) {
  return d
    .select()
    .from(runs)
    .where(and(inArray(runs.status, ["queued", "running"]), sql`${runs.updatedAt} < ${before}`))
    .orderBy(runs.updatedAt)
    .all();
}

export async function recordRecovery(d: Db, row: Omit<typeof recoveries.$inferInsert, "id">): Promise<void> {
  await d.insert(recoveries).values({ id: newId("rcv"), ...row });
}

export async function listRecoveries(d: Db, targetId: string) {
  return d.select().from(recoveries).where(eq(recoveries.targetId, targetId)).orderBy(recoveries.createdAt).all();
}
