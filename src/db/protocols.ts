import { eq } from "drizzle-orm";
import type { Db } from "./client";
import { protocols } from "./schema";

export type ProtocolRow = typeof protocols.$inferSelect;

export async function insertProtocol(d: Db, row: typeof protocols.$inferInsert): Promise<ProtocolRow> {
  const [created] = await d.insert(protocols).values(row).returning();
  if (!created) throw new Error("insert returned no row");
  return created;
}

export async function findProtocol(d: Db, id: string): Promise<ProtocolRow | undefined> {
  return d.select().from(protocols).where(eq(protocols.id, id)).get();
}

export async function updateProtocol(d: Db, id: string, patch: Partial<typeof protocols.$inferInsert>): Promise<void> {
  await d
    .update(protocols)
    .set({ ...patch, updatedAt: new Date().toISOString() })
    .where(eq(protocols.id, id));
}
