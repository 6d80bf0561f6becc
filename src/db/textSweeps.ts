import { asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "./client";
import { textSweeps } from "./schema";
import { deleteTexts } from "./texts";

/**
 * Deleting what R2 holds for deleted rows (docs/architecture.md §11). The rows and the sweep of their
 * prefix are written in one D1 batch (src/db/lifecycle.ts); the objects go afterwards, a bounded number
 * per request or cron tick, so deleting a run of a million texts never holds a request or a tick long.
 */

/** A swept prefix is kept this long after deletion, for objects a late writer (a group still in flight) adds. */
export const TEXT_SWEEP_GRACE_MS = 60 * 60_000;

/** Objects the cron trigger deletes per tick at most: 20 listings and 20 deletions of 1,000 keys. */
export const TEXT_SWEEP_OBJECTS_PER_TICK = 20_000;

/** Objects a DELETE request deletes before it answers; the cron trigger deletes the rest. */
export const TEXT_SWEEP_OBJECTS_PER_REQUEST = 5_000;

export type SweepReport = {
  /** Objects deleted. */
  objects: number;
  /** Prefixes found empty after their grace period, and forgotten. */
  finished: number;
  /** Prefixes still to sweep (including those within their grace period). */
  pending: number;
};

/** How many sweeps one call looks at: each costs at least one listing. */
const SWEEPS_PER_CALL = 100;

/**
 * Deletes at most `budget` objects of pending sweeps (oldest first, or only `prefixes`), forgetting a
 * sweep once its prefix lists empty and its grace period is over.
 */
export async function sweepTexts(
  d: Db,
  bucket: R2Bucket,
  nowMs: number,
  budget: number,
  prefixes?: readonly string[],
): Promise<SweepReport> {
  const pending = await d
    .select()
    .from(textSweeps)
    .where(prefixes ? inArray(textSweeps.prefix, [...prefixes]) : undefined)
    .orderBy(asc(textSweeps.createdAt))
    .limit(SWEEPS_PER_CALL)
    .all();
  const graceEnd = new Date(nowMs - TEXT_SWEEP_GRACE_MS).toISOString();
  const report: SweepReport = { objects: 0, finished: 0, pending: 0 };
  for (const sweep of pending) {
    if (report.objects >= budget) break;
    const { deleted, empty } = await deleteTexts(bucket, sweep.prefix, budget - report.objects);
    report.objects += deleted;
    if (empty && sweep.createdAt < graceEnd) {
      await d.delete(textSweeps).where(eq(textSweeps.prefix, sweep.prefix));
      report.finished++;
    } else if (deleted > 0) {
      await d
        .update(textSweeps)
        .set({ deleted: sql`${textSweeps.deleted} + ${deleted}` })
        .where(eq(textSweeps.prefix, sweep.prefix));
    }
  }
  const left = await d
    .select({ n: sql<number>`count(*)` })
    .from(textSweeps)
    .where(prefixes ? inArray(textSweeps.prefix, [...prefixes]) : undefined)
    .get();
  report.pending = left?.n ?? 0;
  return report;
}
