import { describe, expect, it } from "vitest";
import { itemsToRecover, versionBefore } from "../../../src/core/recovery";

describe("itemsToRecover", () => {
  const waves = [
    [1, 2],
    [3, 4],
    [5, 6],
  ];

  it("stops after the first wave with an unrecorded member", () => {
    const recorded = new Set([1, 2, 3]);
    expect(itemsToRecover(waves, (s) => recorded.has(s))).toEqual([
      { item: 1, wave: 0, recorded: true },
      { item: 2, wave: 0, recorded: true },
      { item: 3, wave: 1, recorded: true },
      { item: 4, wave: 1, recorded: false },
    ]);
  });

  it("returns the first wave alone when nothing is recorded (its spawn may never have happened)", () => {
    expect(itemsToRecover(waves, () => false).map((r) => r.item)).toEqual([1, 2]);
  });

  it("returns every member when all are recorded (a lost report may hold the parent)", () => {
    expect(itemsToRecover(waves, () => true).map((r) => r.item)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(itemsToRecover([], () => true)).toEqual([]);
  });
});

describe("versionBefore", () => {
  const batches = [
    { epoch: 1, batch: 0, version: 3 },
    { epoch: 1, batch: 1, version: null },
    { epoch: 2, batch: 0, version: 4 },
  ];

  it("is the run's starting version before any batch made one", () => {
    expect(versionBefore(batches, 1, 0, 2)).toBe(2);
    expect(versionBefore([], 3, 1, 0)).toBe(0);
  });

  it("is the version of the last earlier batch that made one, skipping dropped batches", () => {
    expect(versionBefore(batches, 1, 1, 2)).toBe(3);
    expect(versionBefore(batches, 2, 0, 2)).toBe(3);
    expect(versionBefore(batches, 2, 1, 2)).toBe(4);
  });

  it("does not depend on the order of the rows", () => {
    expect(versionBefore([...batches].reverse(), 2, 1, 2)).toBe(4);
  });
});
