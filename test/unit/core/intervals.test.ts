import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../src/core/batching";
import { newcombeDiff, wilson } from "../../../src/core/intervals";

describe("wilson", () => {
  it("matches the published score interval", () => {
    const half = wilson(0.5, 10);
    expect(half.low).toBeCloseTo(0.2366, 4);
    expect(half.high).toBeCloseTo(0.7634, 4);
    // Newcombe (1998), table I: 81/263 → [0.2553, 0.3662].
    const t = wilson(81 / 263, 263);
    expect(t.low).toBeCloseTo(0.2553, 4);
    expect(t.high).toBeCloseTo(0.3662, 4);
  });

  it("never collapses to a point at 0 or 1, and never leaves [0, 1]", () => {
    expect(wilson(0, 10)).toEqual({ low: 0, high: expect.closeTo(0.2775, 4) });
    const all = wilson(1, 3);
    expect(all.low).toBeCloseTo(0.4385, 4);
    expect(all.high).toBe(1);
    expect(wilson(0.5, 0)).toEqual({ low: 0, high: 1 });
  });

  it("reaches 1 exactly when every reward is 1, and 0 exactly when none is, at any n (no rounding to 0.999…)", () => {
    for (let n = 1; n <= 2000; n++) {
      expect(wilson(1, n).high, `n = ${n}`).toBe(1);
      expect(wilson(0, n).low, `n = ${n}`).toBe(0);
    }
  });
});

describe("newcombeDiff", () => {
  it("matches Newcombe's worked example (56/70 − 48/80: [0.0524, 0.3339])", () => {
    const d = newcombeDiff({ mean: 56 / 70, n: 70 }, { mean: 48 / 80, n: 80 });
    expect(d?.diff).toBeCloseTo(0.2, 10);
    expect(d?.ci.low).toBeCloseTo(0.0524, 4);
    expect(d?.ci.high).toBeCloseTo(0.3339, 4);
  });

  it("is null while an arm is empty", () => {
    expect(newcombeDiff({ mean: 0.5, n: 0 }, { mean: 0.5, n: 10 })).toBeNull();
  });

  it("covers the true difference about 95% of the time, small arms included", () => {
    const random = mulberry32(7);
    const draw = (p: number, n: number) => {
      let k = 0;
      for (let i = 0; i < n; i++) if (random() < p) k++;
      return k / n;
    };
    for (const [pa, na, pb, nb] of [
      [0.9, 20, 0.7, 80],
      [0.5, 40, 0.5, 160],
      [0.95, 100, 0.6, 400],
      [0.05, 60, 0.02, 240],
    ] as const) {
      let covered = 0;
      const trials = 2000;
      for (let t = 0; t < trials; t++) {
        const d = newcombeDiff({ mean: draw(pa, na), n: na }, { mean: draw(pb, nb), n: nb });
        if (d && d.ci.low <= pa - pb && pa - pb <= d.ci.high) covered++;
      }
      // Newcombe's method is slightly conservative; a wrong formula (e.g. Wald at these sizes) falls well below.
      expect(covered / trials, `${pa}/${na} vs ${pb}/${nb}`).toBeGreaterThan(0.93);
      expect(covered / trials, `${pa}/${na} vs ${pb}/${nb}`).toBeLessThan(0.99);
    }
  });
});
