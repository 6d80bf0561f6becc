/** Figures the usage pages compute from the API's usage rows; pure, so unit-tested directly. */
import type { Usage } from "../src/contract";

type Row = Usage["data"][number];

const isError = (r: Row): boolean => r.status >= 400;
const tokensOf = (r: Row): number => (r.promptTokens ?? 0) + (r.completionTokens ?? 0);

/** Nearest-rank percentile (p in 0..100) of the values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

export type Figures = { requests: number; errors: number; tokens: number; p50: number | null; p99: number | null };

export function figures(rows: readonly Row[]): Figures {
  const latencies = rows.map((r) => r.latencyMs);
  return {
    requests: rows.length,
    errors: rows.filter(isError).length,
    tokens: rows.reduce((s, r) => s + tokensOf(r), 0),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/**
 * Requests, errors and tokens of the last 24 hours before `now`, from the newest rows. When the API
 * returned as many rows as were asked for and the oldest is still inside the window, older ones may be
 * missing: `truncated` says the counts are lower bounds.
 */
export function lastDay(rows: readonly Row[], now: number, asked: number): Figures & { truncated: boolean } {
  const since = now - 24 * 3600 * 1000;
  const inside = rows.filter((r) => Date.parse(r.createdAt) >= since);
  return { ...figures(inside), truncated: rows.length >= asked && inside.length === rows.length };
}

/** Rows grouped into consecutive buckets of `bucketMs` from the oldest to the newest row, empty ones included. */
export function buckets(rows: readonly Row[], bucketMs: number): (Figures & { start: number })[] {
  if (rows.length === 0) return [];
  const times = rows.map((r) => Date.parse(r.createdAt));
  const first = Math.floor(Math.min(...times) / bucketMs) * bucketMs;
  const last = Math.floor(Math.max(...times) / bucketMs) * bucketMs;
  const groups = new Map<number, Row[]>();
  for (let t = first; t <= last; t += bucketMs) groups.set(t, []);
  rows.forEach((r, i) => groups.get(Math.floor((times[i] ?? 0) / bucketMs) * bucketMs)?.push(r));
  return [...groups].map(([start, group]) => ({ start, ...figures(group) }));
}

/** A bucket size giving at most about 48 buckets over the rows' time span (1 minute to 1 day). */
export function bucketSize(rows: readonly Row[]): number {
  if (rows.length < 2) return 3600_000;
  const times = rows.map((r) => Date.parse(r.createdAt));
  const span = Math.max(...times) - Math.min(...times);
  const steps = [60_000, 5 * 60_000, 15 * 60_000, 3600_000, 6 * 3600_000, 24 * 3600_000];
  return steps.find((s) => span / s <= 48) ?? 24 * 3600_000;
}

/** Figures per proxy key (null: requests without a known key), busiest first. */
export function byKey(rows: readonly Row[]): { keyId: string | null; figures: Figures }[] {
  const groups = new Map<string | null, Row[]>();
  for (const r of rows) groups.set(r.keyId, [...(groups.get(r.keyId) ?? []), r]);
  return [...groups].map(([keyId, group]) => ({ keyId, figures: figures(group) })).sort((a, b) => b.figures.requests - a.figures.requests);
}
