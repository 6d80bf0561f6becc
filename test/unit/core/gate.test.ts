import { describe, expect, it } from "vitest";
import { decideGate } from "../../../src/core/gateDecision";
import { expiryOf, isStalled, periodOf, periodStart } from "../../../src/core/periods";
import { defaultChunkSize, evaluationFigures } from "../../../src/core/evaluationFigures";

const fig = (diff: number, low = diff - 0.05, high = diff + 0.05) => ({
  diff,
  ci: { low, high },
  questions: 40,
  candidateMeanAtK: 0.5 + diff,
  activeMeanAtK: 0.5,
});

describe("decideGate", () => {
  it("promotes a gain of at least the margin", () => {
    expect(decideGate(fig(0.1), { margin: 0.02, requireSignificant: false }).promote).toBe(true);
    expect(decideGate(fig(0.02), { margin: 0.02, requireSignificant: false }).promote).toBe(true);
  });
  it("refuses a tie, a loss, and a gain below the margin", () => {
    expect(decideGate(fig(0), { margin: 0, requireSignificant: false })).toMatchObject({
      promote: false,
      reason: expect.stringContaining("not better"),
    });
    expect(decideGate(fig(1e-12), { margin: 0, requireSignificant: false }).promote).toBe(false);
    expect(decideGate(fig(-0.1), { margin: 0.02, requireSignificant: false }).promote).toBe(false);
    expect(decideGate(fig(0.01), { margin: 0.02, requireSignificant: false })).toMatchObject({
      promote: false,
      reason: expect.stringContaining("margin"),
    });
  });
  it("with requireSignificant, refuses when the interval reaches zero", () => {
    expect(decideGate(fig(0.05, -0.01, 0.1), { margin: 0.02, requireSignificant: true })).toMatchObject({
      promote: false,
      reason: expect.stringContaining("significant"),
    });
    expect(decideGate(fig(0.05, 0.01, 0.1), { margin: 0.02, requireSignificant: true }).promote).toBe(true);
  });
  it("refuses when nothing was evaluated", () => {
    expect(decideGate({ ...fig(0.5), questions: 0 }, { margin: 0, requireSignificant: false }).promote).toBe(false);
  });
});

describe("schedule arithmetic", () => {
  const h = 3_600_000;
  it("numbers periods from the epoch", () => {
    expect(periodOf(0, 1)).toBe(0);
    expect(periodOf(h - 1, 1)).toBe(0);
    expect(periodOf(h, 1)).toBe(1);
    expect(periodOf(25 * h, 24)).toBe(1);
    expect(periodStart(3, 2).getTime()).toBe(6 * h);
    expect(() => periodOf(0, 0)).toThrow();
  });
  it("two firings in the same period get the same period", () => {
    const t = Date.UTC(2026, 0, 1, 10, 0);
    expect(periodOf(t, 6)).toBe(periodOf(t + 15 * 60_000, 6));
  });
  it("detects stalled runs and computes expiry", () => {
    const now = Date.UTC(2026, 0, 1, 12);
    expect(isStalled(new Date(now - 31 * 60_000).toISOString(), now, 30)).toBe(true);
    expect(isStalled(new Date(now - 29 * 60_000).toISOString(), now, 30)).toBe(false);
    expect(expiryOf(0, 2)).toBe(new Date(2 * 24 * h).toISOString());
  });
});

describe("evaluationFigures", () => {
  const rewards = (rows: Record<number, number[]>) => new Map(Object.entries(rows).map(([q, r]) => [Number(q), r]));
  it("computes Mean@k, Pass@k and the paired difference on common questions only", () => {
    const f = evaluationFigures(
      [3, 0],
      new Map([
        [3, rewards({ 0: [1, 1], 1: [1, 0], 2: [0, 0], 9: [1, 1] })],
        [0, rewards({ 0: [1, 0], 1: [0, 0], 2: [0, 0] })],
      ]),
      2,
      1,
    );
    expect(f.questions).toBe(3);
    expect(f.versions[0]).toMatchObject({ version: 3, label: "v3", meanAtK: 0.5, passAtK: 2 / 3 });
    expect(f.versions[1]).toMatchObject({ version: 0, label: "none", meanAtK: 1 / 6, passAtK: 1 / 3 });
    expect(f.comparisons).toHaveLength(1);
    expect(f.comparisons[0]?.diff).toBeCloseTo(1 / 3);
    expect(f.comparisons[0]?.ci.low).toBeGreaterThanOrEqual(0);
    // Deterministic.
    expect(
      evaluationFigures(
        [3, 0],
        new Map([
          [3, rewards({ 0: [1] })],
          [0, rewards({ 0: [0] })],
        ]),
        1,
        5,
      ),
    ).toEqual(
      evaluationFigures(
        [3, 0],
        new Map([
          [3, rewards({ 0: [1] })],
          [0, rewards({ 0: [0] })],
        ]),
        1,
        5,
      ),
    );
  });
  it("chunks at most 50 ways", () => {
    expect(defaultChunkSize(30)).toBe(1);
    expect(defaultChunkSize(300)).toBe(6);
    expect(defaultChunkSize(0)).toBe(1);
  });
});
