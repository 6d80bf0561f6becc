import { describe, it, expect } from "vitest";
import { isJudge, verifierSpecSchema, verify } from "../../../src/verifiers/index";

describe("verifierSpecSchema", () => {
  it("accepts every kind with its options", () => {
    for (const spec of [
      { kind: "math" },
      { kind: "exact" },
      { kind: "choice" },
      { kind: "numeric", options: { absTol: 0.01, relTol: 0.001 } },
      { kind: "regex", options: { pattern: "^a$", flags: "i" } },
      { kind: "judge", options: { objective: "be strict" } },
    ])
      expect(verifierSpecSchema.safeParse(spec).success, JSON.stringify(spec)).toBe(true);
  });
  it("rejects unknown kinds and bad options", () => {
    for (const spec of [
      { kind: "fuzzy" },
      { kind: "numeric", options: { absTol: -1 } },
      { kind: "regex", options: { flags: "g" } },
      {},
      null,
    ]) {
      expect(verifierSpecSchema.safeParse(spec).success, JSON.stringify(spec)).toBe(false);
    }
  });
});

describe("verify", () => {
  it("dispatches to each synchronous verifier", () => {
    expect(verify({ kind: "math" }, { response: "\\boxed{\\frac12}", answer: "0.5" }).reward).toBe(1);
    expect(verify({ kind: "exact" }, { response: "Yes.", answer: "yes" }).reward).toBe(1);
    expect(verify({ kind: "numeric", options: { absTol: 0.1 } }, { response: "3.15", answer: "3.1" }).reward).toBe(1);
    expect(verify({ kind: "regex" }, { response: "abc", answer: "^a" }).reward).toBe(1);
    expect(verify({ kind: "choice" }, { response: "Answer: C", answer: "C" }).reward).toBe(1);
  });
  it("keeps rewards in [0, 1] for garbage input", () => {
    for (const kind of ["math", "exact", "numeric", "regex", "choice"] as const) {
      const r = verify({ kind }, { response: { not: "text" }, answer: "1" });
      expect(r.reward).toBe(0);
    }
  });
  it("refuses the asynchronous judge with a clear error", () => {
    const spec = { kind: "judge" } as const;
    expect(isJudge(spec)).toBe(true);
    expect(isJudge({ kind: "math" })).toBe(false);
    expect(() => verify(spec, { response: "x", answer: "y" })).toThrow(/judge/);
  });
});
