import { and, eq, gte, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { llmCalls } from "./schema";
import { readText, storeText, type TextReader, type TextWriter } from "./texts";

/** A stored call as D1 holds it: its reply may be in R2 (read it with callReply). */
export type LlmCallRow = typeof llmCalls.$inferSelect;

export async function findCall(d: Db, ownerId: string, callKey: string): Promise<LlmCallRow | undefined> {
  return d
    .select()
    .from(llmCalls)
    .where(and(eq(llmCalls.ownerId, ownerId), eq(llmCalls.callKey, callKey)))
    .get();
}

/** Every stored call of an owner whose key starts with `prefix` (one range scan of the primary key). */
export async function callsWithPrefix(d: Db, ownerId: string, prefix: string): Promise<LlmCallRow[]> {
  return d
    .select()
    .from(llmCalls)
    .where(and(eq(llmCalls.ownerId, ownerId), gte(llmCalls.callKey, prefix), lt(llmCalls.callKey, `${prefix}\uffff`)))
    .all();
}

export type NewLlmCall = Omit<typeof llmCalls.$inferInsert, "responseInline" | "responseRef"> & { response: string | null };

/**
 * First writer wins: a concurrent duplicate of the same call keeps the stored reply. A long reply is
 * written to R2 first (src/db/texts.ts), so the row never refers to an object that is not there.
 */
export async function storeCall(d: Db, texts: TextWriter, call: NewLlmCall): Promise<void> {
  const { response, ...row } = call;
  const stored = response === null ? { inline: null, ref: null } : await storeText(texts, `call/${row.callKey}`, response);
  await d
    .insert(llmCalls)
    .values({ ...row, responseInline: stored.inline, responseRef: stored.ref })
    .onConflictDoNothing();
}

/** The accepted reply of a stored call; null when every attempt was unusable (`error` says why). */
export async function callReply(texts: TextReader, row: LlmCallRow): Promise<string | null> {
  return readText(texts, { inline: row.responseInline, ref: row.responseRef });
}

export type StageUsage = {
  stage: string;
  calls: number;
  attempts: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
};

export async function usageByStage(d: Db, ownerId: string): Promise<StageUsage[]> {
  return d
    .select({
      stage: llmCalls.stage,
      calls: sql<number>`count(*)`,
      attempts: sql<number>`sum(${llmCalls.attempts})`,
      promptTokens: sql<number>`sum(${llmCalls.promptTokens})`,
      completionTokens: sql<number>`sum(${llmCalls.completionTokens})`,
      cachedTokens: sql<number>`sum(${llmCalls.cachedTokens})`,
    })
    .from(llmCalls)
    .where(eq(llmCalls.ownerId, ownerId))
    .groupBy(llmCalls.stage)
    .orderBy(llmCalls.stage)
    .all();
}

export async function totalTokens(d: Db, ownerId: string): Promise<number> {
  const row = await d
    .select({ n: sql<number>`coalesce(sum(${llmCalls.promptTokens} + ${llmCalls.completionTokens}), 0)` })
    .from(llmCalls)
    .where(eq(llmCalls.ownerId, ownerId))
    .get();
  return row?.n ?? 0;
}
