import { describe, expect, it } from "vitest";
import { singleFlight } from "../../../src/serving/singleFlight";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("singleFlight", () => {
  it("runs the work once for callers that ask while it runs, per key", async () => {
    const flights = singleFlight<number>();
    const gate = deferred<number>();
    let runs = 0;
    const work = () => {
      runs++;
      return gate.promise;
    };
    const a = flights.run("k", work);
    const b = flights.run("k", work);
    const other = flights.run("other", async () => 7);
    expect(a).toBe(b);
    gate.resolve(1);
    expect(await Promise.all([a, b, other])).toEqual([1, 1, 7]);
    expect(runs).toBe(1);
  });

  it("runs again once the work has settled, failures included", async () => {
    const flights = singleFlight<number>();
    await expect(flights.run("k", async () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await flights.run("k", async () => 2)).toBe(2);
    expect(await flights.run("k", async () => 3)).toBe(3);
  });

  it("lets later callers start afresh after forget, while earlier ones keep their result", async () => {
    const flights = singleFlight<string>();
    const first = deferred<string>();
    const early = flights.run("agent-1|s", () => first.promise);
    flights.forget((key) => key.startsWith("agent-1|"));
    const late = flights.run("agent-1|s", async () => "fresh");
    first.resolve("stale");
    expect(await early).toBe("stale");
    expect(await late).toBe("fresh");
    // The first flight settling must not evict the second one's entry.
    expect(await flights.run("agent-1|s", async () => "third")).toBe("third");
  });
});
