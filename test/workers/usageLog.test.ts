import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "../../src/db/client";
import { recentUsage, usageInsertStatements, usageTotals, type NewUsageRow } from "../../src/db/usage";
import { FLUSH_ROWS, flushUsage, recordUsage, usageLogStats } from "../../src/serving/usageLog";
import { call, json } from "./helpers";

/** The usage log's write path against local D1: rows travel as one JSON array per statement. */

let agentId: string;

beforeAll(async () => {
  const res = await call("POST", "/api/agents", {
    name: "metered",
    upstream: { baseUrl: "http://upstream.test/v1", model: "m", apiKey: "sk-x" },
  });
  agentId = (await json<{ id: string }>(res)).id;
});

const row = (i: number, extra: Partial<NewUsageRow> = {}): NewUsageRow => ({
  requestId: `req_${String(i).padStart(5, "0")}`,
  agentId,
  keyId: null,
  model: "m",
  version: null,
  status: 200,
  stream: false,
  promptTokens: null,
  completionTokens: null,
  cachedTokens: null,
  latencyMs: 1.5,
  ttfbMs: null,
  surface: "chat",
  usageEstimated: false,
  createdAt: `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}.000Z`,
  canaryId: null,
  ...extra,
});

async function insert(rows: NewUsageRow[]): Promise<number> {
  const d = db(env.DB);
  const [first, ...rest] = usageInsertStatements(d, rows);
  if (!first) throw new Error("no statements");
  await d.batch([first, ...rest]);
  return 1 + rest.length;
}

describe("usage inserts", () => {
  it("stores every column as given, nulls, booleans, fractions and awkward text included", async () => {
    const full = row(1, {
      keyId: "key-1",
      model: `mödel "quoted" 'single' \\ ✓`,
      version: 7,
      status: 499,
      stream: true,
      promptTokens: 1200,
      completionTokens: 34,
      cachedTokens: 1024,
      latencyMs: 12.25,
      ttfbMs: 0.5,
      surface: "messages",
      usageEstimated: true,
      canaryId: "cny_1",
    });
    const sparse = row(2);
    expect(await insert([full, sparse])).toBe(1);
    const stored = await recentUsage(db(env.DB), agentId, 10);
    expect(stored.find((r) => r.requestId === full.requestId)).toEqual(full);
    expect(stored.find((r) => r.requestId === sparse.requestId)).toEqual(sparse);
  });

  it("writes hundreds of rows in a few statements and ignores a replayed request id", async () => {
    const rows = Array.from({ length: 2403 }, (_, i) => row(100 + i, { promptTokens: i }));
    expect(await insert(rows)).toBe(3);
    await insert([row(100, { status: 500, promptTokens: 999_999 })]);
    const totals = await usageTotals(db(env.DB), agentId);
    expect(totals.requests).toBe(2 + 2403);
    expect(totals.errors).toBe(1);
    expect(totals.promptTokens).toBe(1200 + (2402 * 2403) / 2);
  });
});

describe("the buffered log", () => {
  it("flushes once FLUSH_ROWS rows are buffered, and on demand", async () => {
    const waits: Promise<unknown>[] = [];
    const ctx = { waitUntil: (p: Promise<unknown>) => void waits.push(p) };
    const before = (await usageTotals(db(env.DB), agentId)).requests;
    for (let i = 0; i < FLUSH_ROWS + 3; i++) recordUsage(env, ctx, row(10_000 + i));
    await Promise.all(waits.slice(1));
    expect((await usageTotals(db(env.DB), agentId)).requests).toBe(before + FLUSH_ROWS);
    expect(usageLogStats().buffered).toBe(3);
    await flushUsage(env);
    expect((await usageTotals(db(env.DB), agentId)).requests).toBe(before + FLUSH_ROWS + 3);
    expect(usageLogStats()).toMatchObject({ buffered: 0, dropped: 0 });
  });
});
