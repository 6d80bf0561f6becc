import { and, eq, gte, lt } from "drizzle-orm";
import type { Db } from "./client";
import { toolResults } from "./schema";
import { readText, storeText, type TextReader, type TextWriter } from "./texts";

/** A tool result as D1 holds it: its output may be in R2 (read it with toolOutput). */
export type ToolResultRow = typeof toolResults.$inferSelect;

/** The output of a finished call ('' when none was stored). */
export async function toolOutput(texts: TextReader, row: ToolResultRow): Promise<string> {
  return (await readText(texts, { inline: row.outputInline, ref: row.outputRef })) ?? "";
}

export async function findToolResult(d: Db, ownerId: string, callKey: string): Promise<ToolResultRow | undefined> {
  return d
    .select()
    .from(toolResults)
    .where(and(eq(toolResults.ownerId, ownerId), eq(toolResults.callKey, callKey)))
    .get();
}

/** Every stored result under a key prefix (one rollout group or question): one query instead of one per call. */
export async function toolResultsWithPrefix(d: Db, ownerId: string, prefix: string): Promise<ToolResultRow[]> {
  return d
    .select()
    .from(toolResults)
    .where(and(eq(toolResults.ownerId, ownerId), gte(toolResults.callKey, prefix), lt(toolResults.callKey, `${prefix}\uffff`)))
    .all();
}

/** Marks a call as started; false when a row exists already (a replay, or a call that died mid-way). */
export async function claimToolCall(d: Db, row: { ownerId: string; callKey: string; tool: string }): Promise<boolean> {
  const inserted = await d
    .insert(toolResults)
    .values({ ...row, state: "running" })
    .onConflictDoNothing()
    .returning({ key: toolResults.callKey });
  return inserted.length > 0;
}

/**
 * Takes over a call a replay found `running` (its invocation died) to run it once more; false when it
 * was already retried once (or another replay took it over first).
 */
export async function retryToolCall(d: Db, ownerId: string, callKey: string): Promise<boolean> {
  const taken = await d
    .update(toolResults)
    .set({ state: "retried" })
    .where(and(eq(toolResults.ownerId, ownerId), eq(toolResults.callKey, callKey), eq(toolResults.state, "running")))
    .returning({ key: toolResults.callKey });
  return taken.length > 0;
}

/** Records a call's output (a long one in R2 first, src/db/texts.ts). */
export async function finishToolCall(
  d: Db,
  texts: TextWriter,
  row: { ownerId: string; callKey: string; output: string; isError: boolean; durationMs: number },
): Promise<void> {
  const output = await storeText(texts, `tool/${row.callKey}`, row.output);
  await d
    .update(toolResults)
    .set({ state: "done", outputInline: output.inline, outputRef: output.ref, isError: row.isError, durationMs: row.durationMs })
    .where(and(eq(toolResults.ownerId, row.ownerId), eq(toolResults.callKey, row.callKey)));
}
