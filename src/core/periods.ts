/** Scheduling arithmetic for retraining and stalled-run recovery, pure. */

const HOUR_MS = 3_600_000;

/** The period a moment falls in, for a schedule of every `everyHours` hours (periods since the epoch). */
export function periodOf(nowMs: number, everyHours: number): number {
  if (!Number.isInteger(everyHours) || everyHours < 1)
    throw new Error(`periodOf: everyHours must be a positive integer, got ${everyHours}`);
  return Math.floor(nowMs / (everyHours * HOUR_MS));
}

export function periodStart(period: number, everyHours: number): Date {
  return new Date(period * everyHours * HOUR_MS);
}

/** Whether a run last updated at `updatedAt` has stopped progressing by `nowMs` (older than `minutes`). */
export function isStalled(updatedAt: string, nowMs: number, minutes: number): boolean {
  const t = Date.parse(updatedAt);
  return Number.isFinite(t) && nowMs - t > minutes * 60_000;
}

/** When captured exchanges of an agent expire, from the capture time and the retention in days. */
export function expiryOf(createdAtMs: number, retentionDays: number): string {
  return new Date(createdAtMs + retentionDays * 24 * HOUR_MS).toISOString();
}
