import { desc, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { usageLogs } from "./schema";

export type UsageRow = typeof usageLogs.$inferSelect;
export type NewUsageRow = typeof usageLogs.$inferInsert;

// 13 bound parameters per row; D1 allows 100 per statement.
const ROWS_PER_STATEMENT = 7;

/** Unexecuted inserts for a batch of usage rows (a replayed request id is ignored, not duplicated). */
export function usageInsertStatements(d: Db, rows: readonly NewUsageRow[]) {
  const statements = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    statements.push(d.insert(usageLogs).values(rows.slice(i, i + ROWS_PER_STATEMENT)).onConflictDoNothing());
  }
  return statements;
}

export type UsageTotals = {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  avgLatencyMs: number | null;
  avgTtfbMs: number | null;
};

export async function usageTotals(d: Db, agentId: string): Promise<UsageTotals> {
  const row = await d
    .select({
      requests: sql<number>`count(*)`,
      errors: sql<number>`coalesce(sum(case when ${usageLogs.status} >= 400 then 1 else 0 end), 0)`,
      promptTokens: sql<number>`coalesce(sum(${usageLogs.promptTokens}), 0)`,
      completionTokens: sql<number>`coalesce(sum(${usageLogs.completionTokens}), 0)`,
      cachedTokens: sql<number>`coalesce(sum(${usageLogs.cachedTokens}), 0)`,
      avgLatencyMs: sql<number | null>`avg(${usageLogs.latencyMs})`,
      avgTtfbMs: sql<number | null>`avg(${usageLogs.ttfbMs})`,
    })
    .from(usageLogs)
    .where(eq(usageLogs.agentId, agentId))
    .get();
  return row ?? { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, avgLatencyMs: null, avgTtfbMs: null };
}

/** Newest first. */
export async function recentUsage(d: Db, agentId: string, limit: number): Promise<UsageRow[]> {
  return d
    .select()
    .from(usageLogs)
    .where(eq(usageLogs.agentId, agentId))
    .orderBy(desc(usageLogs.createdAt), desc(usageLogs.requestId))
    .limit(limit)
    .all();
}
