import { db } from "../db/client";
import { touchKeyStatement } from "../db/keys";
import { usageInsertStatements, type NewUsageRow } from "../db/usage";
import { sleep } from "../shared/time";
import { tokensFlushed, tokensRecorded } from "./keyUsage";

const rowTokens = (r: NewUsageRow) => (r.promptTokens ?? 0) + (r.completionTokens ?? 0);

/**
 * Usage rows are buffered in the isolate and written as one D1 `batch()` when FLUSH_ROWS have
 * accumulated or FLUSH_DELAY_MS after the first buffered row, whichever comes first. The request that
 * arms the delay keeps itself alive with `waitUntil` until the flush, so no buffered row is left to
 * an isolate that might be evicted. Writing never delays or fails a response: errors are logged
 * (counts only) and the rows dropped. `last_used_at` of proxy keys rides in the same batch, at most
 * once per KEY_TOUCH_INTERVAL_MS per key and isolate.
 */
export const FLUSH_ROWS = 1000;
/** Each flush has a fixed cost in D1 whatever its size; rows reach other isolates' readers within this. */
export const FLUSH_DELAY_MS = 5000;
export const KEY_TOUCH_INTERVAL_MS = 60_000;
/** Above this the oldest rows are dropped rather than letting memory grow while D1 is failing. */
const MAX_BUFFERED = 5_000;

const buffer: NewUsageRow[] = [];
/** When the pending delayed flush was armed (0: none); a flush lost with its request is re-armed. */
let timerArmedAt = 0;
const keyTouchedAt = new Map<string, number>();
let dropped = 0;

/** Writes everything buffered in this isolate now (also used before reading usage back). */
export async function flushUsage(env: Env): Promise<void> {
  if (buffer.length === 0) return;
  const rows = buffer.splice(0, buffer.length);
  const d = db(env.DB);
  const now = Date.now();
  const touches = new Map<string, string>();
  for (const row of rows) {
    if (!row.keyId) continue;
    const last = keyTouchedAt.get(row.keyId) ?? 0;
    if (now - last >= KEY_TOUCH_INTERVAL_MS) touches.set(row.keyId, row.createdAt ?? new Date(now).toISOString());
  }
  for (const keyId of touches.keys()) keyTouchedAt.set(keyId, now);
  const [first, ...rest] = [...usageInsertStatements(d, rows), ...[...touches].map(([keyId, at]) => touchKeyStatement(d, keyId, at))];
  if (!first) return;
  try {
    await d.batch([first, ...rest]);
    for (const row of rows) if (row.keyId && row.createdAt) tokensFlushed(row.keyId, row.createdAt, rowTokens(row));
  } catch (error) {
    dropped += rows.length;
    for (const keyId of touches.keys()) keyTouchedAt.delete(keyId);
    console.error(`usage log: dropped ${rows.length} rows (${error instanceof Error ? error.name : "error"})`);
  }
}

/** Buffers one row; the returned work must be handed to `waitUntil`. */
export function recordUsage(env: Env, ctx: Pick<ExecutionContext, "waitUntil">, row: NewUsageRow): void {
  buffer.push(row);
  if (row.keyId && row.createdAt) tokensRecorded(row.keyId, row.createdAt, rowTokens(row));
  if (buffer.length > MAX_BUFFERED) dropped += buffer.splice(0, buffer.length - MAX_BUFFERED).length;
  if (buffer.length >= FLUSH_ROWS) {
    ctx.waitUntil(flushUsage(env));
  } else if (timerArmedAt === 0 || Date.now() - timerArmedAt > 4 * FLUSH_DELAY_MS) {
    timerArmedAt = Date.now();
    ctx.waitUntil(
      sleep(FLUSH_DELAY_MS).then(() => {
        timerArmedAt = 0;
        return flushUsage(env);
      }),
    );
  }
}

export function usageLogStats(): { buffered: number; dropped: number } {
  return { buffered: buffer.length, dropped };
}
