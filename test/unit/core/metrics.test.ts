import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../src/core/batching";
import { bootstrapCI, groupMean, hasSignal, meanAtK, pairedBootstrapCI, passAtK } from "../../../src/core/metrics";

describe("groupMean", () => {
  it("averages, 0 for an empty group", () => {
    expect(groupMean([1, 0, 1, 1])).toBe(0.75);
    expect(groupMean([])).toBe(0);
  });
});

describe("meanAtK", () => {
  it("averages each question's mean, so questions weigh equally whatever k", () => {
    expect(
      meanAtK([
        [1, 1, 1, 1],
        [0, 0],
      ]),
    ).toBe(0.5);
    expect(
      meanAtK([
        [1, 0],
        [0.5, 0.5],
        [0, 0],
      ]),
    ).toBeCloseTo(1 / 3);
  });
  it("is 0 with no questions and ignores questions without samples", () => {
    expect(meanAtK([])).toBe(0);
    expect(meanAtK([[], [1, 0]])).toBe(0.5);
  });
});

describe("passAtK", () => {
  it("is the share of questions with at least one success", () => {
    expect(passAtK([[0, 0, 1], [0, 0, 0], [1, 1, 1], [0]])).toBe(0.5);
    expect(passAtK([])).toBe(0);
  });
  it("takes a threshold for graded rewards", () => {
    expect(passAtK([[0.9, 0.2], [0.5]])).toBe(0);
    expect(passAtK([[0.9, 0.2], [0.5]], 0.8)).toBe(0.5);
  });
});

describe("hasSignal", () => {
  it("is true only when rewards differ (0 < mean < 1 for binary rewards)", () => {
    expect(hasSignal([1, 0, 1])).toBe(true);
    expect(hasSignal([1, 1, 1])).toBe(false);
    expect(hasSignal([0, 0])).toBe(false);
    expect(hasSignal([0.4, 0.7])).toBe(true);
  });
  it("needs two rewards and ignores float noise", () => {
    expect(hasSignal([1])).toBe(false);
    expect(hasSignal([])).toBe(false);
    expect(hasSignal([0.3, 0.1 + 0.2])).toBe(false);
  });
});

describe("bootstrapCI", () => {
  const scores = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 1 : 0));

  it("is deterministic for a seed and varies with it", () => {
    // Graded scores, so different resamples give visibly different percentiles.
    const graded = Array.from({ length: 30 }, (_, i) => ((i * 7919) % 101) / 100);
    expect(bootstrapCI(graded, { seed: 1 })).toEqual(bootstrapCI(graded, { seed: 1 }));
    expect(bootstrapCI(graded, { seed: 1 })).not.toEqual(bootstrapCI(graded, { seed: 2 }));
  });
  it("brackets the sample mean, and a higher level gives a wider interval", () => {
    const ci95 = bootstrapCI(scores, { seed: 3 });
    const ci50 = bootstrapCI(scores, { seed: 3, level: 0.5 });
    expect(ci95.low).toBeLessThan(1 / 3);
    expect(ci95.high).toBeGreaterThan(1 / 3);
    expect(ci95.high - ci95.low).toBeGreaterThan(ci50.high - ci50.low);
    // Normal approximation: half-width ≈ 1.96 * sqrt(p(1-p)/n) ≈ 0.119.
    expect((ci95.high - ci95.low) / 2).toBeGreaterThan(0.09);
    expect((ci95.high - ci95.low) / 2).toBeLessThan(0.15);
  });
  it("collapses for constant data and is {0,0} for none", () => {
    const ci = bootstrapCI([0.7, 0.7, 0.7], { seed: 1 });
    expect(ci.low).toBeCloseTo(0.7, 12);
    expect(ci.high).toBeCloseTo(0.7, 12);
    expect(bootstrapCI([], { seed: 1 })).toEqual({ low: 0, high: 0 });
  });
  it("covers the true mean about as often as its level says", () => {
    const random = mulberry32(99);
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const sample = Array.from({ length: 50 }, () => (random() < 0.4 ? 1 : 0));
      const ci = bootstrapCI(sample, { seed: t, iterations: 500 });
      if (ci.low <= 0.4 && 0.4 <= ci.high) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.88);
    expect(covered / trials).toBeLessThan(0.99);
  });
  it("rejects a level outside (0, 1)", () => {
    expect(() => bootstrapCI([1], { seed: 1, level: 95 })).toThrow(/level/);
  });
});

describe("pairedBootstrapCI", () => {
  it("is the interval of mean(a − b), deterministic for a seed", () => {
    const b = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const a = b.map((x, i) => (i % 4 === 1 ? 1 : x));
    const ci = pairedBootstrapCI(a, b, { seed: 5 });
    expect(ci).toEqual(pairedBootstrapCI(a, b, { seed: 5 }));
    expect(ci.low).toBeGreaterThan(0);
    expect(ci.low).toBeLessThanOrEqual(0.25);
    expect(ci.high).toBeGreaterThanOrEqual(0.25);
  });
  it("is exactly zero when a library changes nothing, however noisy the scores", () => {
    const a = [1, 0, 1, 1, 0, 0.5];
    expect(pairedBootstrapCI(a, [...a], { seed: 1 })).toEqual({ low: 0, high: 0 });
  });
  it("requires paired scores", () => {
    expect(() => pairedBootstrapCI([1, 0], [1], { seed: 1 })).toThrow(/paired/);
  });
});
