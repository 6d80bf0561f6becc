import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { agents, proxyKeys, usageLogs } from "./schema";

export type ProxyKeyRow = typeof proxyKeys.$inferSelect;

export async function insertKey(d: Db, row: typeof proxyKeys.$inferInsert): Promise<ProxyKeyRow> {
  const [created] = await d.insert(proxyKeys).values(row).returning();
  if (!created) throw new Error("insert returned no row");
  return created;
}

export async function listKeys(d: Db, agentId: string): Promise<ProxyKeyRow[]> {
  return d.select().from(proxyKeys).where(eq(proxyKeys.agentId, agentId)).orderBy(proxyKeys.createdAt, proxyKeys.id).all();
}

/** Deletes the key only if it belongs to the agent, so one agent's admin path cannot revoke another's key. */
export async function deleteKey(d: Db, agentId: string, keyId: string): Promise<boolean> {
  const deleted = await d
    .delete(proxyKeys)
    .where(and(eq(proxyKeys.agentId, agentId), eq(proxyKeys.id, keyId)))
    .returning({ id: proxyKeys.id });
  return deleted.length > 0;
}

/**
 * What the serving path needs to trust a key: its agent, the agent's change stamp, the key's limits
 * and — only for a key with a daily token limit — the tokens it used since `dayStart`, in one query.
 */
export type ServingKeyRow = {
  keyId: string;
  agentId: string;
  activeVersion: number | null;
  agentUpdatedAt: string;
  expiresAt: string | null;
  requestsPerMinute: number | null;
  tokensPerDay: number | null;
  tokensToday: number;
};

export async function findServingKey(d: Db, hash: string, dayStart: string): Promise<ServingKeyRow | undefined> {
  // CASE evaluates the sum only for keys that have a daily limit (usage_key_time index).
  const tokensToday = sql<number>`case when ${proxyKeys.tokensPerDay} is null then 0 else (
    select coalesce(sum(coalesce(${usageLogs.promptTokens}, 0) + coalesce(${usageLogs.completionTokens}, 0)), 0)
    from ${usageLogs} where ${usageLogs.keyId} = ${proxyKeys.id} and ${usageLogs.createdAt} >= ${dayStart}) end`;
  return d
    .select({
      keyId: proxyKeys.id,
      agentId: proxyKeys.agentId,
      activeVersion: agents.activeVersion,
      agentUpdatedAt: agents.updatedAt,
      expiresAt: proxyKeys.expiresAt,
      requestsPerMinute: proxyKeys.requestsPerMinute,
      tokensPerDay: proxyKeys.tokensPerDay,
      tokensToday,
    })
    .from(proxyKeys)
    .innerJoin(agents, eq(agents.id, proxyKeys.agentId))
    .where(eq(proxyKeys.hash, hash))
    .get();
}

/** Unexecuted `last_used_at` update, for callers that batch it with other writes. */
export function touchKeyStatement(d: Db, keyId: string, at: string) {
  return d.update(proxyKeys).set({ lastUsedAt: at }).where(eq(proxyKeys.id, keyId));
}
