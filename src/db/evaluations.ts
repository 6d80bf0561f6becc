import { and, asc, desc, eq, inArray, like, sql } from "drizzle-orm";
import type { EvaluationFigures } from "../core/evaluation";
import type { Db } from "./client";
import { evaluationScores, evaluations, llmCalls } from "./schema";

export type EvaluationRow = typeof evaluations.$inferSelect;
export type NewEvaluationRow = typeof evaluations.$inferInsert;
export type EvaluationScoreRow = typeof evaluationScores.$inferSelect;

/** Inserts unless an evaluation with this id exists (deterministic ids make a replayed step a no-op). */
export async function insertEvaluation(d: Db, row: NewEvaluationRow): Promise<EvaluationRow> {
  await d.insert(evaluations).values(row).onConflictDoNothing();
  const stored = await findEvaluation(d, row.id);
  if (!stored) throw new Error(`evaluation ${row.id} vanished after insert`);
  return stored;
}

export async function findEvaluation(d: Db, id: string): Promise<EvaluationRow | undefined> {
  return d.select().from(evaluations).where(eq(evaluations.id, id)).get();
}

export async function listEvaluations(d: Db, filter: { agentId?: string; limit: number }): Promise<EvaluationRow[]> {
  const where = filter.agentId ? eq(evaluations.agentId, filter.agentId) : undefined;
  return d.select().from(evaluations).where(where).orderBy(desc(evaluations.createdAt), desc(evaluations.id)).limit(filter.limit).all();
}

export async function markEvaluationRunning(d: Db, id: string): Promise<void> {
  await d
    .update(evaluations)
    .set({ status: "running", updatedAt: new Date().toISOString() })
    .where(and(eq(evaluations.id, id), eq(evaluations.status, "queued")));
}

export async function touchEvaluation(d: Db, id: string): Promise<void> {
  await d.update(evaluations).set({ updatedAt: new Date().toISOString() }).where(eq(evaluations.id, id));
}

/** Final status; a finished evaluation keeps its first outcome. */
export async function finishEvaluation(
  d: Db,
  id: string,
  fields: { status: "completed" | "failed"; summary?: EvaluationFigures | null; error?: string | null },
): Promise<void> {
  await d
    .update(evaluations)
    .set({ status: fields.status, summary: fields.summary ?? null, error: fields.error ?? null, updatedAt: new Date().toISOString() })
    .where(and(eq(evaluations.id, id), sql`${evaluations.status} in ('queued', 'running')`));
}

export async function insertScore(d: Db, row: typeof evaluationScores.$inferInsert): Promise<void> {
  await d.insert(evaluationScores).values(row).onConflictDoNothing();
}

export async function findScore(d: Db, evaluationId: string, version: number, sampleIdx: number): Promise<EvaluationScoreRow | undefined> {
  return d
    .select()
    .from(evaluationScores)
    .where(
      and(
        eq(evaluationScores.evaluationId, evaluationId),
        eq(evaluationScores.version, version),
        eq(evaluationScores.sampleIdx, sampleIdx),
      ),
    )
    .get();
}

export async function evaluationScoreRows(
  d: Db,
  evaluationId: string,
  page?: { offset: number; limit: number; versions: number },
): Promise<EvaluationScoreRow[]> {
  const q = d
    .select()
    .from(evaluationScores)
    .where(eq(evaluationScores.evaluationId, evaluationId))
    .orderBy(asc(evaluationScores.sampleIdx), asc(evaluationScores.version));
  return page
    ? q
        .limit(page.limit * page.versions)
        .offset(page.offset * page.versions)
        .all()
    : q.all();
}

/** Questions scored so far, per version. */
export async function scoredCounts(d: Db, evaluationId: string): Promise<Map<number, number>> {
  const rows = await d
    .select({ version: evaluationScores.version, n: sql<number>`count(*)` })
    .from(evaluationScores)
    .where(eq(evaluationScores.evaluationId, evaluationId))
    .groupBy(evaluationScores.version)
    .all();
  return new Map(rows.map((r) => [r.version, r.n]));
}

export type TokenTotals = { calls: number; promptTokens: number; completionTokens: number; cachedTokens: number };

/** Tokens of the calls made for one version (call keys start with `v<version>/`). */
export async function versionTokens(d: Db, evaluationId: string, version: number): Promise<TokenTotals> {
  const row = await d
    .select({
      calls: sql<number>`count(*)`,
      promptTokens: sql<number>`coalesce(sum(${llmCalls.promptTokens}), 0)`,
      completionTokens: sql<number>`coalesce(sum(${llmCalls.completionTokens}), 0)`,
      cachedTokens: sql<number>`coalesce(sum(${llmCalls.cachedTokens}), 0)`,
    })
    .from(llmCalls)
    .where(and(eq(llmCalls.ownerId, evaluationId), like(llmCalls.callKey, `v${version}/%`)))
    .get();
  return row ?? { calls: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
}

/** Evaluations still queued or running whose last progress is older than `before` (ISO), oldest first. */
export async function stalledEvaluations(d: Db, before: string): Promise<EvaluationRow[]> {
  return d
    .select()
    .from(evaluations)
    .where(and(inArray(evaluations.status, ["queued", "running"]), sql`${evaluations.updatedAt} < ${before}`))
    .orderBy(evaluations.updatedAt)
    .all();
}
