import { describe, expect, it } from "vitest";
import { BoundedMap } from "../../src/shared/boundedMap";
import { sleep } from "../../src/shared/time";

describe("BoundedMap", () => {
  it("drops the oldest insertion once full, and a re-set key keeps its place", () => {
    const m = new BoundedMap<string, number>(2);
    m.set("a", 1).set("b", 2).set("a", 3);
    expect([...m.entries()]).toEqual([
      ["a", 3],
      ["b", 2],
    ]);
    m.set("c", 4);
    expect([...m.keys()]).toEqual(["b", "c"]);
  });
});

describe("sleep", () => {
  it("rejects with the signal's reason when aborted", async () => {
    const controller = new AbortController();
    const slept = sleep(10_000, controller.signal);
    controller.abort(new Error("gone"));
    await expect(slept).rejects.toThrow("gone");
  });
});
