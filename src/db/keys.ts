import { and, eq } from "drizzle-orm";
import type { Db } from "./client";
import { agents, proxyKeys } from "./schema";

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

/** What the serving path needs to trust a key: its agent and the agent's change stamp, in one query. */
export type ServingKeyRow = { keyId: string; agentId: string; activeVersion: number | null; agentUpdatedAt: string };

export async function findServingKey(d: Db, hash: string): Promise<ServingKeyRow | undefined> {
  return d
    .select({ keyId: proxyKeys.id, agentId: proxyKeys.agentId, activeVersion: agents.activeVersion, agentUpdatedAt: agents.updatedAt })
    .from(proxyKeys)
    .innerJoin(agents, eq(agents.id, proxyKeys.agentId))
    .where(eq(proxyKeys.hash, hash))
    .get();
}

/** Unexecuted `last_used_at` update, for callers that batch it with other writes. */
export function touchKeyStatement(d: Db, keyId: string, at: string) {
  return d.update(proxyKeys).set({ lastUsedAt: at }).where(eq(proxyKeys.id, keyId));
}
