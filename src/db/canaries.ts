import { and, desc, eq } from "drizzle-orm";
import type { Db } from "./client";
import { canaries, type promotions } from "./schema";
import { findPromotion } from "./promotions";

export type CanaryRow = typeof canaries.$inferSelect;
type NewCanaryRow = typeof canaries.$inferInsert;
type NewPromotionRow = typeof promotions.$inferInsert;

export async function findRunningCanary(d: Db, agentId: string): Promise<CanaryRow | undefined> {
  return d
    .select()
    .from(canaries)
    .where(and(eq(canaries.agentId, agentId), eq(canaries.status, "running")))
    .get();
}

export async function findCanary(d: Db, id: string): Promise<CanaryRow | undefined> {
  return d.select().from(canaries).where(eq(canaries.id, id)).get();
}

/** Newest first. */
export async function listCanaries(d: Db, agentId: string, limit: number): Promise<CanaryRow[]> {
  return d
    .select()
    .from(canaries)
    .where(eq(canaries.agentId, agentId))
    .orderBy(desc(canaries.createdAt), desc(canaries.id))
    .limit(limit)
    .all();
}

export async function listRunningCanaries(d: Db): Promise<CanaryRow[]> {
  return d.select().from(canaries).where(eq(canaries.status, "running")).orderBy(canaries.createdAt).all();
}

/** A promotions row written with a canary's start or end (its decision is fixed by the caller). */
export type CanaryRecord = Pick<
  NewPromotionRow,
  "id" | "decidedBy" | "decision" | "fromVersion" | "toVersion" | "runId" | "evaluationId" | "figures" | "reason" | "warnings"
>;

const insertRecord = (d: Db, agentId: string, r: CanaryRecord, now: string, condition: string, ...binds: unknown[]) =>
  d.$client
    .prepare(
      `insert into promotions (id, agent_id, decided_by, decision, from_version, to_version, run_id, evaluation_id, figures, reason, created_at, warnings)
       select ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12
       where not exists (select 1 from promotions where id = ?1) and ${condition}`,
    )
    .bind(
      r.id,
      agentId,
      r.decidedBy,
      r.decision,
      r.fromVersion ?? null,
      r.toVersion ?? null,
      r.runId ?? null,
      r.evaluationId ?? null,
      r.figures === undefined || r.figures === null ? null : JSON.stringify(r.figures),
      r.reason ?? "",
      now,
      JSON.stringify(r.warnings ?? []),
      ...binds,
    );

/**
 * Starts a canary and records the decision, in one D1 batch (its only transaction): the canary row is
 * written only if the agent still serves `baseVersion` and runs no other canary, and the agent's
 * `updated_at` moves with it, which is how every isolate's serving cache learns of it within one TTL
 * (serving/proxyAuth.ts). Returns the stored canary, or null when a condition did not hold (nothing was
 * written). Replaying the same id writes nothing twice.
 */
export async function startCanary(
  d: Db,
  row: Omit<NewCanaryRow, "status" | "reason" | "endedAt" | "createdAt"> & { baseVersion: number | null },
  record: CanaryRecord,
): Promise<CanaryRow | null> {
  const now = new Date().toISOString();
  const started = "exists (select 1 from canaries where id = ?13 and status = 'running')";
  await d.$client.batch([
    d.$client
      .prepare(
        `insert into canaries (id, agent_id, version, base_version, percent, sticky_by, rules, status, started_by, run_id, created_at)
         select ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8, ?9, ?10
         where exists (select 1 from agents where id = ?2 and active_version is ?4)
           and not exists (select 1 from canaries where agent_id = ?2 and status = 'running')
           and not exists (select 1 from canaries where id = ?1)`,
      )
      .bind(
        row.id,
        row.agentId,
        row.version,
        row.baseVersion,
        row.percent,
        row.stickyBy,
        JSON.stringify(row.rules),
        row.startedBy,
        row.runId ?? null,
        now,
      ),
    d.$client
      .prepare("update agents set updated_at = ?1 where id = ?2 and exists (select 1 from canaries where id = ?3 and status = 'running')")
      .bind(now, row.agentId, row.id),
    insertRecord(d, row.agentId, record, now, started, row.id),
  ]);
  const stored = await findCanary(d, row.id);
  return stored?.status === "running" && stored.createdAt === now ? stored : null;
}

/**
 * Changes a running canary's share of the traffic and records the decision, in one D1 batch; the agent's
 * `updated_at` moves with it, so every isolate serves the new share within one TTL. The canary's id, and
 * so every sticky value's position, stays: raising the share keeps everyone already in the candidate's
 * arm there (core/canaryAssignment.ts). Returns false when the canary was no longer running.
 */
export async function rampCanary(
  d: Db,
  canary: Pick<CanaryRow, "id" | "agentId">,
  percent: number,
  record: CanaryRecord,
): Promise<boolean> {
  const now = new Date().toISOString();
  const ramped = "exists (select 1 from canaries where id = ?13 and status = 'running' and percent = ?14)";
  await d.$client.batch([
    d.$client.prepare("update canaries set percent = ?1 where id = ?2 and status = 'running'").bind(percent, canary.id),
    d.$client
      .prepare(
        "update agents set updated_at = ?1 where id = ?2 and exists (select 1 from canaries where id = ?3 and status = 'running' and percent = ?4)",
      )
      .bind(now, canary.agentId, canary.id, percent),
    insertRecord(d, canary.agentId, record, now, ramped, canary.id, percent),
  ]);
  return (await findPromotion(d, record.id)) !== undefined;
}

export type CanaryEnd = {
  canary: Pick<CanaryRow, "id" | "agentId" | "version" | "baseVersion">;
  status: "promoted" | "rolled_back" | "ended";
  reason: string;
  record: CanaryRecord;
};

/**
 * Ends a running canary and records the decision, in one D1 batch. `promoted` also makes the candidate
 * the active version, but only while the agent still serves the canary's base version (else nothing
 * happens). Every ending moves the agent's `updated_at`, so isolates stop serving the canary within one
 * TTL. Returns true when this call ended it; false when it had already ended (or the guard failed).
 */
export async function endCanary(d: Db, end: CanaryEnd): Promise<boolean> {
  const now = new Date().toISOString();
  const { canary } = end;
  const promote = end.status === "promoted";
  const ended = "exists (select 1 from canaries where id = ?13 and status = ?14 and ended_at = ?15)";
  await d.$client.batch([
    d.$client
      .prepare(
        `update canaries set status = ?1, reason = ?2, ended_at = ?3 where id = ?4 and status = 'running'${
          promote ? " and exists (select 1 from agents where id = ?5 and active_version is ?6)" : ""
        }`,
      )
      .bind(end.status, end.reason, now, canary.id, ...(promote ? [canary.agentId, canary.baseVersion] : [])),
    d.$client
      .prepare(
        `update agents set ${promote ? "active_version = ?5, " : ""}updated_at = ?1 where id = ?2 and exists (select 1 from canaries where id = ?3 and status = ?4 and ended_at = ?1)`,
      )
      .bind(now, canary.agentId, canary.id, end.status, ...(promote ? [canary.version] : [])),
    insertRecord(d, canary.agentId, end.record, now, ended, canary.id, end.status, now),
  ]);
  const stored = await findCanary(d, canary.id);
  return stored?.status === end.status && stored.endedAt === now;
}
