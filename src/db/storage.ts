import type { Db } from "./client";
import { ownerTextPrefix, textUsage, type TextUsage } from "./texts";

export type RunStorage = {
  id: string;
  d1: { rows: number; inlineTextBytes: number; textRefs: number };
  r2: TextUsage & { prefix: string };
};

/** Objects listed at most to measure one run (100 listings); a larger run reports lower bounds. */
export const STORAGE_LISTING_MAX_OBJECTS = 100_000;

const bytes = (column: string) => `coalesce(sum(length(cast(${column} as blob))), 0)`;
const refs = (...columns: string[]) => columns.map((c) => `count(${c}_ref)`).join(" + ");

/**
 * What a run occupies (docs/architecture.md §11): its rows in D1 with the text they hold inline and
 * the texts they refer to, and its objects in R2 as listed under its prefix.
 */
export async function runStorage(d: Db, bucket: R2Bucket, run: { id: string; agentId: string }): Promise<RunStorage> {
  const row = await d.$client
    .prepare(
      `select
         (select count(*) from rollouts where run_id = ?1) + (select count(*) from groups where run_id = ?1)
           + (select count(*) from batches where run_id = ?1) + (select count(*) from llm_calls where owner_id = ?1)
           + (select count(*) from tool_results where owner_id = ?1) as rows,
         (select ${bytes("response")} + ${bytes("critique")} + ${bytes("summary")} + ${bytes("messages")} from rollouts where run_id = ?1)
           + (select ${bytes("advantage")} from groups where run_id = ?1)
           + (select ${bytes("response")} from llm_calls where owner_id = ?1)
           + (select ${bytes("output")} from tool_results where owner_id = ?1) as inline_bytes,
         (select ${refs("response", "critique", "summary", "messages")} from rollouts where run_id = ?1)
           + (select ${refs("advantage")} from groups where run_id = ?1)
           + (select ${refs("response")} from llm_calls where owner_id = ?1)
           + (select ${refs("output")} from tool_results where owner_id = ?1) as text_refs`,
    )
    .bind(run.id)
    .first<{ rows: number; inline_bytes: number; text_refs: number }>();
  const prefix = ownerTextPrefix(run.agentId, run.id);
  const usage = await textUsage(bucket, prefix, STORAGE_LISTING_MAX_OBJECTS);
  return {
    id: run.id,
    d1: { rows: row?.rows ?? 0, inlineTextBytes: row?.inline_bytes ?? 0, textRefs: row?.text_refs ?? 0 },
    r2: { prefix, ...usage },
  };
}
