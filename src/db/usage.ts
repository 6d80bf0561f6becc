import { desc, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { usageLogs } from "./schema";

export type UsageRow = typeof usageLogs.$inferSelect;
export type NewUsageRow = typeof usageLogs.$inferInsert;

/** Rows per insert statement: one JSON array bound as a single value stays far below D1's 2 MB limit. */
const ROWS_PER_STATEMENT = 1000;

/** A row as the JSON array the insert below unpacks, in its column order. */
const encodeUsageRow = (r: NewUsageRow) => [
  r.requestId,
  r.agentId,
  r.keyId ?? null,
  r.model ?? null,
  r.version ?? null,
  r.status,
  r.stream ? 1 : 0,
  r.promptTokens ?? null,
  r.completionTokens ?? null,
  r.cachedTokens ?? null,
  r.latencyMs,
  r.ttfbMs ?? null,
  r.surface ?? "chat",
  r.usageEstimated ? 1 : 0,
  r.createdAt ?? new Date().toISOString(),
  r.canaryId ?? null,
];

/**
 * Unexecuted inserts for a batch of usage rows (a replayed request id is ignored, not duplicated).
 * Rows of an agent deleted since they were buffered are left out: a foreign-key failure would roll
 * back the whole batch, losing every other agent's rows with it (issue 16). The
 * rows travel as one JSON array unpacked by SQLite's `json_each`, so a flush of hundreds of rows is a
 * single statement with one bound value: D1 and the Worker pay per statement and per bound value, not
 * per row (drizzle's multi-row `values()` needed 13 bound values a row and 7 rows a statement).
 */
export function usageInsertStatements(d: Db, rows: readonly NewUsageRow[]) {
  const statements = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT).map(encodeUsageRow));
    // insert…select names every column in schema order, which is also the order of encodeUsageRow.
    statements.push(
      d
        .insert(usageLogs)
        .select(
          sql`select value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6,
                     value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12,
                     value ->> 13, value ->> 14, value ->> 15
              from json_each(${chunk}) where value ->> 1 in (select id from agents)`,
        )
        .onConflictDoNothing(),
    );
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
