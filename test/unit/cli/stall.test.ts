import { describe, expect, it } from "vitest";
import { stallDetector } from "../../../cli/stall";

describe("stallDetector", () => {
  it("fires once the progress has not changed for the period, then once per further period", () => {
    const stalled = stallDetector(1000);
    expect(stalled("3/10", 0)).toBe(false);
    expect(stalled("3/10", 999)).toBe(false);
    expect(stalled("3/10", 1000)).toBe(true);
    expect(stalled("3/10", 1500)).toBe(false);
    expect(stalled("3/10", 2000)).toBe(true);
  });

  it("starts over whenever the progress moves", () => {
    const stalled = stallDetector(1000);
    expect(stalled("3/10", 0)).toBe(false);
    expect(stalled("4/10", 900)).toBe(false);
    expect(stalled("4/10", 1800)).toBe(false);
    expect(stalled("4/10", 1900)).toBe(true);
  });
});
