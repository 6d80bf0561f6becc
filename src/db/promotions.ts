import { desc, eq } from "drizzle-orm";
import type { Db } from "./client";
import { promotions } from "./schema";

export type PromotionRow = typeof promotions.$inferSelect;
export type NewPromotionRow = typeof promotions.$inferInsert;

export async function listPromotions(d: Db, agentId: string, limit = 100): Promise<PromotionRow[]> {
  return d
    .select()
    .from(promotions)
    .where(eq(promotions.agentId, agentId))
    .orderBy(desc(promotions.createdAt), desc(promotions.id))
    .limit(limit)
    .all();
}

export async function findPromotion(d: Db, id: string): Promise<PromotionRow | undefined> {
  return d.select().from(promotions).where(eq(promotions.id, id)).get();
}

/** Records a decision that changes nothing (a refusal); a replay with the same id is ignored. */
export async function recordRefusal(d: Db, row: Omit<NewPromotionRow, "decision">): Promise<void> {
  await d
    .insert(promotions)
    .values({ ...row, decision: "refused" })
    .onConflictDoNothing();
}

/**
 * Switches the agent's active version and records the decision in one D1 batch (its only
 * transaction). `fromVersion` is the version the decision was made against; with `guard`, the switch
 * happens only if the agent still serves it, and the record says 'refused' otherwise: `changes()` of
 * the update decides the record's outcome inside the same batch. A replay with the same id changes
 * nothing. Returns the stored decision.
 */
export async function promote(
  d: Db,
  row: Omit<NewPromotionRow, "decision"> & { fromVersion: number | null; toVersion: number | null },
  guard: boolean,
): Promise<PromotionRow> {
  const existing = await findPromotion(d, row.id);
  if (existing) return existing;
  const now = new Date().toISOString();
  const figures = row.figures === undefined || row.figures === null ? null : JSON.stringify(row.figures);
  const reason = row.reason ?? "";
  const warnings = JSON.stringify(row.warnings ?? []);
  // Raw statements: the record's outcome reads changes() of the update just before it in the batch.
  await d.$client.batch([
    d.$client
      .prepare(`update agents set active_version = ?1, updated_at = ?2 where id = ?3${guard ? " and active_version is ?4" : ""}`)
      .bind(...(guard ? [row.toVersion, now, row.agentId, row.fromVersion] : [row.toVersion, now, row.agentId])),
    d.$client
      .prepare(
        `insert into promotions (id, agent_id, decided_by, decision, from_version, to_version, run_id, evaluation_id, figures, reason, created_at, warnings)
         select ?1, ?2, ?3, case when changes() > 0 then 'promoted' else 'refused' end, ?4, ?5, ?6, ?7, ?8,
                case when changes() > 0 then ?9 else 'the active version changed while the candidate was being evaluated' end, ?10, ?11
         where not exists (select 1 from promotions where id = ?1)`,
      )
      .bind(
        row.id,
        row.agentId,
        row.decidedBy,
        row.fromVersion,
        row.toVersion,
        row.runId ?? null,
        row.evaluationId ?? null,
        figures,
        reason,
        now,
        warnings,
      ),
  ]);
  const stored = await findPromotion(d, row.id);
  if (!stored) throw new Error(`promotion ${row.id} was not recorded`);
  return stored;
}
