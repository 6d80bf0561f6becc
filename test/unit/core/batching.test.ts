import { describe, expect, it } from "vitest";
import { chunkPlan, deriveSeed, epochPlan, hashString, mulberry32, seededShuffle, splitBatches } from "../../../src/core/batching";

describe("hashString", () => {
  it("is 32-bit FNV-1a", () => {
    expect(hashString("")).toBe(0x811c9dc5);
    expect(hashString("a")).toBe(0xe40c292c);
    expect(hashString("foobar")).toBe(0xbf9cf968);
  });
});

describe("deriveSeed", () => {
  it("is deterministic, a non-negative 31-bit integer", () => {
    const s = deriveSeed(42, 1, "sample-7", 3);
    expect(deriveSeed(42, 1, "sample-7", 3)).toBe(s);
    expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
  });
  it("differs when any part, the part boundaries or a part's type differ", () => {
    const seeds = new Set([
      deriveSeed(42, 1, 0, 0),
      deriveSeed(42, 1, 0, 1),
      deriveSeed(42, 2, 0, 0),
      deriveSeed(43, 1, 0, 0),
      deriveSeed("ab", "c"),
      deriveSeed("a", "bc"),
      deriveSeed("1"),
      deriveSeed(1),
    ]);
    expect(seeds.size).toBe(8);
  });
});

describe("mulberry32", () => {
  it("repeats for a seed and stays in [0, 1)", () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe("seededShuffle", () => {
  it("returns a permutation of 0..count-1", () => {
    for (const count of [0, 1, 2, 17, 100]) {
      const order = seededShuffle(count, 123, 0);
      expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, i) => i));
    }
  });
  it("is deterministic from (seed, epoch), so a resumed run sees the same order", () => {
    expect(seededShuffle(50, 9, 2)).toEqual(seededShuffle(50, 9, 2));
  });
  it("gives different orders for different epochs and seeds", () => {
    expect(seededShuffle(50, 9, 1)).not.toEqual(seededShuffle(50, 9, 2));
    expect(seededShuffle(50, 9, 1)).not.toEqual(seededShuffle(50, 10, 1));
  });
  it("moves every element to every position about equally often", () => {
    const counts = [0, 0, 0, 0];
    for (let epoch = 0; epoch < 4000; epoch++) {
      const first = seededShuffle(4, 1, epoch)[0] as number;
      counts[first] = (counts[first] as number) + 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });
  it("rejects a negative or fractional count", () => {
    expect(() => seededShuffle(-1, 0, 0)).toThrow(/count/);
    expect(() => seededShuffle(1.5, 0, 0)).toThrow(/count/);
  });
});

describe("splitBatches", () => {
  it("splits into consecutive batches, the last one possibly smaller", () => {
    expect(splitBatches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(splitBatches([1, 2, 3], 3)).toEqual([[1, 2, 3]]);
    expect(splitBatches([1, 2], 100)).toEqual([[1, 2]]);
    expect(splitBatches([], 4)).toEqual([]);
  });
  it("rejects a batch size below 1 or fractional", () => {
    expect(() => splitBatches([1], 0)).toThrow(/batchSize/);
    expect(() => splitBatches([1], 1.5)).toThrow(/batchSize/);
  });
});

describe("plans shared by the Workflows and recovery", () => {
  it("epochPlan is the seeded shuffle of the epoch split into batches", () => {
    const plan = epochPlan(10, 7, 2, 4);
    expect(plan.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(plan.flat()).toEqual(seededShuffle(10, 7, 2));
    expect(epochPlan(10, 7, 2, 4)).toEqual(plan);
    expect(epochPlan(10, 7, 3, 4).flat()).not.toEqual(plan.flat());
  });

  it("chunkPlan covers every question once, in order", () => {
    expect(chunkPlan(7, 3)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(chunkPlan(0, 3)).toEqual([]);
  });
});
