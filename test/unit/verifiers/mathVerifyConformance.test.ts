// Conformance with Hugging Face Math-Verify's own regression cases (see test/fixtures/README.md).
// Only `config: "default"` cases are scored: the others depend on non-default upstream options
// (coarser rounding, latex-only extraction, strict=False...) or, for mv-257, on an upstream parse failure
// that makes a mathematically wrong expectation pass. None are excluded from the default denominator.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it, expect } from "vitest";
import { mathEquivalent } from "../../../src/verifiers/math";

interface Case {
  id: string;
  gold: string;
  prediction: string;
  expected: boolean;
  config: string;
}

const path = fileURLToPath(new URL("../../fixtures/math-verify-cases.jsonl", import.meta.url));
const cases: Case[] = readFileSync(path, "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as Case);

describe("math-verify conformance", () => {
  it("agrees with at least 98% of the default-config cases", () => {
    const scored = cases.filter((c) => c.config === "default");
    expect(scored.length).toBe(249);
    const mismatches = scored.filter((c) => mathEquivalent(c.gold, c.prediction) !== c.expected);
    const agree = scored.length - mismatches.length;
    console.log(`math-verify conformance: ${agree}/${scored.length} (${((100 * agree) / scored.length).toFixed(1)}%)`);
    for (const m of mismatches)
      console.log(
        `  mismatch ${m.id}: expected ${m.expected} for ${JSON.stringify(m.gold.slice(0, 80))} vs ${JSON.stringify(m.prediction.slice(-80))}`,
      );
    expect(agree / scored.length).toBeGreaterThanOrEqual(0.98);
  });

  it("says false for the flagged upstream quirk (1 - 1/e vs 1 + 1/e), which is mathematically different", () => {
    const quirk = cases.find((c) => c.config === "upstream-quirk");
    expect(quirk?.id).toBe("mv-257");
    expect(mathEquivalent(quirk?.gold ?? "", quirk?.prediction ?? "")).toBe(false);
  });
});
