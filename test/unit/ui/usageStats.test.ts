import { describe, expect, it } from "vitest";
import { bucketSize, buckets, byKey, figures, lastDay, percentile } from "../../../ui/usageStats";

const row = (minutesAgo: number, o: { key?: string | null; status?: number; latency?: number; tokens?: [number, number] } = {}) => ({
  requestId: `req_${minutesAgo}`,
  keyId: o.key === undefined ? "key_a" : o.key,
  model: "sim-1",
  version: 1,
  status: o.status ?? 200,
  stream: false,
  surface: "chat" as const,
  usageEstimated: false,
  promptTokens: o.tokens?.[0] ?? 10,
  completionTokens: o.tokens?.[1] ?? 5,
  cachedTokens: 0,
  latencyMs: o.latency ?? 100,
  ttfbMs: null,
  createdAt: new Date(NOW - minutesAgo * 60_000).toISOString(),
});
const NOW = Date.parse("2026-11-29T12:00:00Z");

describe("usage figures", () => {
  it("percentile is nearest-rank", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([], 50)).toBeNull();
  });

  it("counts requests, errors (status ≥ 400) and tokens", () => {
    const f = figures([row(1), row(2, { status: 429, tokens: [0, 0] }), row(3, { status: 502, latency: 900 })]);
    expect(f).toEqual({ requests: 3, errors: 2, tokens: 30, p50: 100, p99: 900 });
  });

  it("the last 24 hours exclude older rows and say when the rows asked for may not reach back a day", () => {
    const rows = [row(10), row(60 * 23), row(60 * 25)];
    expect(lastDay(rows, NOW, 1000)).toMatchObject({ requests: 2, truncated: false });
    expect(lastDay(rows.slice(0, 2), NOW, 2)).toMatchObject({ requests: 2, truncated: true });
  });

  it("buckets keep empty periods so gaps show, and split by key busiest first", () => {
    const rows = [row(0), row(1), row(180, { key: "key_b" }), row(181, { key: null, status: 500 })];
    const hourly = buckets(rows, 3600_000);
    // 08:59, 09:00, (none in the 10:00 hour), 11:59, 12:00
    expect(hourly.map((b) => [new Date(b.start).toISOString().slice(11, 16), b.requests, b.errors])).toEqual([
      ["08:00", 1, 1],
      ["09:00", 1, 0],
      ["10:00", 0, 0],
      ["11:00", 1, 0],
      ["12:00", 1, 0],
    ]);
    expect(byKey(rows).map((k) => [k.keyId, k.figures.requests, k.figures.errors])).toEqual([
      ["key_a", 2, 0],
      ["key_b", 1, 0],
      [null, 1, 1],
    ]);
  });

  it("chooses a bucket size for at most about 48 buckets", () => {
    expect(bucketSize([row(0), row(30)])).toBe(60_000);
    expect(bucketSize([row(0), row(60 * 20)])).toBe(3600_000);
    expect(bucketSize([row(0), row(60 * 24 * 10)])).toBe(6 * 3600_000);
  });
});
