import { eq, or } from "drizzle-orm";
import type { Db } from "./client";
import { agents } from "./schema";

export type AgentRow = typeof agents.$inferSelect;
export type NewAgentRow = typeof agents.$inferInsert;

/** `ref` is an agent id or its name. */
export async function findAgent(d: Db, ref: string): Promise<AgentRow | undefined> {
  return d.select().from(agents).where(or(eq(agents.id, ref), eq(agents.name, ref))).get();
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

export async function deleteAgent(d: Db, id: string): Promise<void> {
  await d.delete(agents).where(eq(agents.id, id));
}
