/**
 * Tokens each proxy key used today (UTC), as this isolate knows them without a D1 read per request
 * (docs/serving.md, "Limits"): the sum the key check last read from the usage log (in the background,
 * once per TTL), plus the tokens of rows this isolate recorded that had not reached D1 when that sum
 * was read. Other isolates' usage arrives with the next key check (usage rows are flushed within 5 s).
 */
type Day = { day: string; recorded: number; flushed: number };

/** Per key: tokens recorded in this isolate today, and how many of them were flushed to D1. */
const local = new Map<string, Day>();

export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** ISO instant of the start of the UTC day of `ms` (the lower bound of the D1 sum). */
export const dayStart = (ms: number) => `${utcDay(ms)}T00:00:00.000Z`;

/** Seconds until the next UTC midnight, when a daily limit resets. */
export function secondsToNextDay(ms: number): number {
  const next = Date.parse(dayStart(ms)) + 86_400_000;
  return Math.max(1, Math.ceil((next - ms) / 1000));
}

function today(keyId: string, day: string): Day {
  let entry = local.get(keyId);
  if (!entry || entry.day !== day) {
    entry = { day, recorded: 0, flushed: 0 };
    local.set(keyId, entry);
  }
  return entry;
}

/** A usage row was buffered (its tokens count at once, before they reach D1). */
export function tokensRecorded(keyId: string, createdAt: string, tokens: number): void {
  if (tokens > 0) today(keyId, createdAt.slice(0, 10)).recorded += tokens;
}

/** A usage row reached D1 (a later D1 sum includes it). */
export function tokensFlushed(keyId: string, createdAt: string, tokens: number): void {
  const entry = local.get(keyId);
  if (entry && entry.day === createdAt.slice(0, 10) && tokens > 0) entry.flushed += tokens;
}

/** What a key check records with the D1 sum: how many of this isolate's tokens that sum already holds. */
export function flushedSoFar(keyId: string, day: string): number {
  const entry = local.get(keyId);
  return entry && entry.day === day ? entry.flushed : 0;
}

/**
 * Tokens the key used on `day`: the D1 sum read at the last check (`sum`, with `flushedAtCheck` of this
 * isolate's tokens in it, for `sumDay`), plus this isolate's tokens not in that sum.
 */
export function tokensUsed(keyId: string, day: string, sum: { sumDay: string; sum: number; flushedAtCheck: number }): number {
  const entry = local.get(keyId);
  const recorded = entry && entry.day === day ? entry.recorded : 0;
  if (sum.sumDay !== day) return recorded;
  return sum.sum + recorded - sum.flushedAtCheck;
}
