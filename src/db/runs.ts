import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { AgentRow } from "./agents";
import type { Db } from "./client";
import { agents, runs } from "./schema";

export type RunRow = typeof runs.$inferSelect;
export const ACTIVE_RUN_STATUSES = ["queued", "running"] as const;

/** Runs still in progress for an agent or on a dataset (blocks deleting either). */
export async function activeRunCount(d: Db, where: { agentId?: string; datasetId?: string }): Promise<number> {
  const conditions = [inArray(runs.status, [...ACTIVE_RUN_STATUSES])];
  if (where.agentId) conditions.push(eq(runs.agentId, where.agentId));
  if (where.datasetId) conditions.push(eq(runs.datasetId, where.datasetId));
  const row = await d
    .select({ n: sql<number>`count(*)` })
    .from(runs)
    .where(and(...conditions))
    .get();
  return row?.n ?? 0;
}

/** The agent's run in progress, if any (at most one: see the runs_one_active_per_agent index). */
export async function activeRunOf(d: Db, agentId: string): Promise<string | null> {
  const row = await d
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.agentId, agentId), inArray(runs.status, [...ACTIVE_RUN_STATUSES])))
    .get();
  return row?.id ?? null;
}

/** Raised by insertRun when the agent already has a run in progress. */
export class ActiveRunExistsError extends Error {}

export async function insertRun(d: Db, row: typeof runs.$inferInsert): Promise<RunRow> {
  let created: RunRow | undefined;
  try {
    [created] = await d.insert(runs).values(row).returning();
  } catch (error) {
    const text = error instanceof Error ? `${error.message} ${error.cause instanceof Error ? error.cause.message : ""}` : "";
    if (/UNIQUE constraint failed: runs\.agent_id/i.test(text))
      throw new ActiveRunExistsError(`agent ${row.agentId} already has a run in progress`);
    throw error;
  }
  if (!created) throw new Error("insert returned no row");
  return created;
}

/** Records the batch a run is at (the position its view and recovery read) without reading the run first. */
export function recordPositionStatement(d: Db, id: string, epoch: number, batch: number) {
  return d
    .update(runs)
    .set({
      progress: sql`json_set(${runs.progress}, '$.epoch', ${epoch}, '$.batch', ${batch})`,
      updatedAt: new Date().toISOString(),
    })
    .where(eq(runs.id, id));
}

/** A run's status (zero or one row), as a query to run in a D1 batch with others. */
export function runStatusQuery(d: Db, id: string) {
  return d.select({ status: runs.status }).from(runs).where(eq(runs.id, id)).limit(1);
}

export async function findRun(d: Db, id: string): Promise<RunRow | undefined> {
  return d.select().from(runs).where(eq(runs.id, id)).get();
}

/** A run and its agent in one query; undefined when either is gone. */
export async function findRunWithAgent(d: Db, id: string): Promise<{ run: RunRow; agent: AgentRow } | undefined> {
  return d.select({ run: runs, agent: agents }).from(runs).innerJoin(agents, eq(runs.agentId, agents.id)).where(eq(runs.id, id)).get();
}

export async function listRuns(d: Db, filter: { agentId?: string; limit: number }): Promise<RunRow[]> {
  const where = filter.agentId ? eq(runs.agentId, filter.agentId) : undefined;
  return d.select().from(runs).where(where).orderBy(desc(runs.createdAt), desc(runs.id)).limit(filter.limit).all();
}

export async function updateRun(d: Db, id: string, patch: Partial<typeof runs.$inferInsert>): Promise<void> {
  await d
    .update(runs)
    .set({ ...patch, updatedAt: new Date().toISOString() })
    .where(eq(runs.id, id));
}

/** Moves a run to a final status unless it already has one (a cancel must not be overwritten). */
export async function finishRun(
  d: Db,
  id: string,
  status: "completed" | "failed" | "cancelled",
  fields: { reason?: string | null; error?: string | null },
): Promise<void> {
  await d
    .update(runs)
    .set({ status, reason: fields.reason ?? null, error: fields.error ?? null, updatedAt: new Date().toISOString() })
    .where(and(eq(runs.id, id), sql`${runs.status} in ('queued', 'running')`));
}

/** queued → running; a run cancelled before it started stays cancelled. */
export async function markRunning(d: Db, id: string): Promise<void> {
  await d
    .update(runs)
    .set({ status: "running", updatedAt: new Date().toISOString() })
    .where(and(eq(runs.id, id), eq(runs.status, "queued")));
}
