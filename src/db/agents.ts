import { and, eq, isNotNull, or } from "drizzle-orm";
import type { Db } from "./client";
import { agents } from "./schema";

export type AgentRow = typeof agents.$inferSelect;
export type NewAgentRow = typeof agents.$inferInsert;

/** `ref` is an agent id or its name. */
export async function findAgent(d: Db, ref: string): Promise<AgentRow | undefined> {
  return d
    .select()
    .from(agents)
    .where(or(eq(agents.id, ref), eq(agents.name, ref)))
    .get();
}

export async function findAgentByName(d: Db, name: string): Promise<AgentRow | undefined> {
  return d.select().from(agents).where(eq(agents.name, name)).get();
}

export async function listAgents(d: Db): Promise<AgentRow[]> {
  return d.select().from(agents).orderBy(agents.createdAt, agents.id).all();
}

export async function insertAgent(d: Db, row: NewAgentRow): Promise<AgentRow> {
  const [created] = await d.insert(agents).values(row).returning();
  if (!created) throw new Error("insert returned no row");
  return created;
}

export async function updateAgent(d: Db, id: string, patch: Partial<NewAgentRow>): Promise<AgentRow> {
  const [updated] = await d
    .update(agents)
    .set({ ...patch, updatedAt: new Date().toISOString() })
    .where(eq(agents.id, id))
    .returning();
  if (!updated) throw new Error(`agent ${id} vanished during update`);
  return updated;
}

/** Agents holding a sealed upstream key: id and ciphertext only. */
export async function agentsWithSealedKeys(d: Db): Promise<{ id: string; cipher: string }[]> {
  const rows = await d
    .select({ id: agents.id, cipher: agents.upstreamKeyCipher })
    .from(agents)
    .where(isNotNull(agents.upstreamKeyCipher))
    .all();
  return rows.flatMap((r) => (r.cipher === null ? [] : [{ id: r.id, cipher: r.cipher }]));
}

/** Replaces a sealed key only if it is still the one read (a concurrent PATCH wins); true when replaced. */
export async function replaceSealedKey(d: Db, id: string, from: string, to: string): Promise<boolean> {
  const rows = await d
    .update(agents)
    .set({ upstreamKeyCipher: to })
    .where(and(eq(agents.id, id), eq(agents.upstreamKeyCipher, from)))
    .returning({ id: agents.id });
  return rows.length > 0;
}
