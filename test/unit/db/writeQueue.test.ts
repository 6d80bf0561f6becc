import { describe, expect, it } from "vitest";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../../../src/db/client";
import { writeQueue } from "../../../src/db/writeQueue";

/** A stand-in for D1's batch(): records each batch and holds it until released (statements are plain labels here). */
function fakeDb(fail?: (labels: string[]) => boolean) {
  const batches: string[][] = [];
  const held: (() => void)[] = [];
  const d = {
    batch: (statements: unknown[]) => {
      const labels = statements as string[];
      batches.push(labels);
      return new Promise<void>((resolve, reject) =>
        held.push(() => (fail?.(labels) ? reject(new Error(`D1 refused ${labels.join(",")}`)) : resolve())),
      );
    },
  } as unknown as Db;
  const releaseAll = async () => {
    while (held.length > 0) {
      held.shift()?.();
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  return { d, batches, releaseAll };
}
const s = (...labels: string[]) => labels as unknown as BatchItem<"sqlite">[];
/** Lets the queue send what it holds (it takes one look at its queue before sending). */
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("writeQueue", () => {
  it("sends the first write at once and what comes while it is in flight together, in order", async () => {
    const { d, batches, releaseAll } = fakeDb();
    const q = writeQueue(d);
    const first = q.add(s("a"));
    await tick();
    void q.add(s("b1", "b2"));
    void q.add(s("c"));
    expect(batches).toEqual([["a"]]);
    let done = false;
    void first.then(() => (done = true));
    await releaseAll();
    await q.settle();
    expect(done).toBe(true);
    expect(batches).toEqual([["a"], ["b1", "b2", "c"]]);
  });

  it("refuses every later write after a failure, and settle() throws it", async () => {
    const { d, batches, releaseAll } = fakeDb((labels) => labels.includes("bad"));
    const q = writeQueue(d);
    const ok = q.add(s("a"));
    await tick();
    const bad = q.add(s("bad"));
    const after = q.add(s("c"));
    await releaseAll();
    await expect(ok).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow(/refused bad/);
    await expect(after).rejects.toThrow(/refused bad/);
    await expect(q.add(s("d"))).rejects.toThrow(/refused bad/);
    await expect(q.settle()).rejects.toThrow(/refused bad/);
    // "c" went in the failed batch with "bad"; "d" was never sent.
    expect(batches).toEqual([["a"], ["bad", "c"]]);
  });

  it("keeps a batch within its statement limit", async () => {
    const { d, batches, releaseAll } = fakeDb();
    const q = writeQueue(d);
    void q.add(s("first"));
    await tick();
    for (let i = 0; i < 30; i++) void q.add(s(`x${i}`, `y${i}`));
    await releaseAll();
    await q.settle();
    expect(batches.map((b) => b.length)).toEqual([1, 50, 10]);
    expect(batches.flat()).toEqual(["first", ...Array.from({ length: 30 }, (_, i) => [`x${i}`, `y${i}`]).flat()]);
  });

  it("sends what is queued in the same turn together, in order, waiting for statements still being made", async () => {
    const { d, batches, releaseAll } = fakeDb();
    const q = writeQueue(d);
    let make: (statements: BatchItem<"sqlite">[]) => void = () => undefined;
    void q.add(new Promise<BatchItem<"sqlite">[]>((r) => (make = r)));
    void q.add(s("after"));
    await tick();
    // The first entry's statements (its text going to R2) are not made yet: nothing is sent before them.
    expect(batches).toEqual([]);
    make(s("made"));
    await tick();
    await releaseAll();
    await q.settle();
    expect(batches).toEqual([["made", "after"]]);
  });

  it("refuses everything after statements that could not be made (a text that did not reach R2)", async () => {
    const { d, batches, releaseAll } = fakeDb();
    const q = writeQueue(d);
    const failed = q.add(Promise.reject(new Error("R2 put failed")));
    const after = q.add(s("after"));
    await releaseAll();
    await expect(failed).rejects.toThrow(/R2 put failed/);
    await expect(after).rejects.toThrow(/R2 put failed/);
    await expect(q.settle()).rejects.toThrow(/R2 put failed/);
    expect(batches).toEqual([]);
  });

  it("settles at once when nothing was queued", async () => {
    const { d, batches } = fakeDb();
    await writeQueue(d).settle();
    expect(batches).toEqual([]);
  });
});
