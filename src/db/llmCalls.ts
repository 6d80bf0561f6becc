import { and, eq, gte, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
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

/** Whether an owner has any stored call under `prefix` (zero or one row), as a query to run in a D1 batch with others. */
export function anyCallWithPrefixQuery(d: Db, ownerId: string, prefix: string) {
  return d
    .select({ key: llmCalls.callKey })
    .from(llmCalls)
    .where(and(eq(llmCalls.ownerId, ownerId), gte(llmCalls.callKey, prefix), lt(llmCalls.callKey, `${prefix}\uffff`)))
    .limit(1);
}

export type NewLlmCall = Omit<typeof llmCalls.$inferInsert, "responseInline" | "responseRef"> & { response: string | null };

/**
 * First writer wins: a concurrent duplicate of the same call keeps the stored reply. A long reply is
 * written to R2 first (src/db/texts.ts), so the row never refers to an object that is not there.
 * `also`: statements recording what the reply produced (a rollout row, a summary, a group's outcome),
 * written in the same D1 batch — one round trip, and the call is stored if and only if they are.
 */
export async function storeCall(d: Db, texts: TextWriter, call: NewLlmCall, also: BatchItem<"sqlite">[] = []): Promise<void> {
  const [insert, ...rest] = await storeCallStatements(d, texts, call, also);
  if (rest.length === 0) await insert;
  else await d.batch([insert, ...rest]);
}

/** storeCall's statements, its long reply already in R2, for a caller that commits them itself (db/writeQueue.ts). */
export async function storeCallStatements(
  d: Db,
  texts: TextWriter,
  call: NewLlmCall,
  also: BatchItem<"sqlite">[] = [],
): Promise<[BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]> {
  const { response, ...row } = call;
  const stored = response === null ? { inline: null, ref: null } : await storeText(texts, `call/${row.callKey}`, response);
  return [
    d
      .insert(llmCalls)
      .values({ ...row, responseInline: stored.inline, responseRef: stored.ref })
      .onConflictDoNothing(),
    ...also,
  ];
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

/** The tokens an owner's calls used, as a query (one row) to run in a D1 batch with others. */
export function totalTokensQuery(d: Db, ownerId: string) {
  return d
    .select({ n: sql<number>`coalesce(sum(${llmCalls.promptTokens} + ${llmCalls.completionTokens}), 0)` })
    .from(llmCalls)
    .where(eq(llmCalls.ownerId, ownerId));
}
