/**
 * Problems of the built-in sets `sim-tools-train` and `sim-tools-test`: exact big-integer arithmetic,
 * enumerations and sums over ranges, which the simulated model gets wrong in its head and right when it
 * runs correct code. The model parses the same texts back (`findToolProblem`).
 */
import { createRng, hashParts, type Rng } from "./rng";
import type { ToolPitfallId } from "./toolPitfalls";

export type ToolProblemKind = "power" | "square_sum" | "divisible_count" | "range_product";
export type ToolProblem = { kind: ToolProblemKind; a: number; b: number; p: number; q: number };
export type SimToolProblem = { id: string; question: string; answer: string; pitfalls: ToolPitfallId[] };

export const TOOL_PROBLEM_PITFALLS: Record<ToolProblemKind, ToolPitfallId[]> = {
  power: ["use_code_tool", "bigint_exact", "print_result"],
  square_sum: ["use_code_tool", "inclusive_loop", "print_result"],
  divisible_count: ["use_code_tool", "inclusive_loop", "print_result"],
  range_product: ["use_code_tool", "inclusive_loop", "bigint_exact", "print_result"],
};

export function renderToolProblem(x: ToolProblem): string {
  switch (x.kind) {
    case "power":
      return `Compute ${x.a}^${x.b} exactly, giving every digit.`;
    case "square_sum":
      return `What is the sum of the squares of the integers from ${x.a} to ${x.b} inclusive?`;
    case "divisible_count":
      return `How many integers from ${x.a} to ${x.b} inclusive are divisible by ${x.p} or by ${x.q}?`;
    case "range_product":
      return `What is the exact product of the integers from ${x.a} to ${x.b} inclusive?`;
  }
}

const PATTERNS: [ToolProblemKind, RegExp][] = [
  ["power", /Compute (\d+)\^(\d+) exactly, giving every digit\./],
  ["square_sum", /What is the sum of the squares of the integers from (\d+) to (\d+) inclusive\?/],
  ["divisible_count", /How many integers from (\d+) to (\d+) inclusive are divisible by (\d+) or by (\d+)\?/],
  ["range_product", /What is the exact product of the integers from (\d+) to (\d+) inclusive\?/],
];

export function findToolProblem(text: string): ToolProblem | null {
  for (const [kind, re] of PATTERNS) {
    const m = re.exec(text);
    if (m) return { kind, a: Number(m[1]), b: Number(m[2]), p: Number(m[3] ?? 0), q: Number(m[4] ?? 0) };
  }
  return null;
}

/** The exact answer, as text (big integers in full). */
export function solveToolProblem(x: ToolProblem): string {
  switch (x.kind) {
    case "power":
      return (BigInt(x.a) ** BigInt(x.b)).toString();
    case "square_sum": {
      let s = 0n;
      for (let i = x.a; i <= x.b; i++) s += BigInt(i) * BigInt(i);
      return s.toString();
    }
    case "divisible_count": {
      let c = 0;
      for (let i = x.a; i <= x.b; i++) if (i % x.p === 0 || i % x.q === 0) c++;
      return String(c);
    }
    case "range_product": {
      let s = 1n;
      for (let i = x.a; i <= x.b; i++) s *= BigInt(i);
      return s.toString();
    }
  }
}

function generateOne(rng: Rng): ToolProblem {
  const kind = rng.pick(["power", "square_sum", "divisible_count", "range_product"] as const);
  switch (kind) {
    case "power": {
      const a = rng.int(3, 29);
      // At least 2^60, so ordinary numbers cannot hold it exactly.
      const b = Math.ceil(60 / Math.log2(a)) + rng.int(0, 12);
      return { kind, a, b, p: 0, q: 0 };
    }
    case "square_sum": {
      const a = rng.int(10, 400);
      return { kind, a, b: a + rng.int(50, 900), p: 0, q: 0 };
    }
    case "divisible_count": {
      const p = rng.pick([3, 4, 6, 7, 9, 11, 13]);
      let q = rng.pick([5, 8, 10, 12, 17, 19]);
      if (q === p) q += 1;
      const a = rng.int(10, 500);
      // The upper end is a multiple of p, so leaving it out of the loop changes the count.
      const b = Math.ceil((a + rng.int(200, 5000)) / p) * p;
      return { kind, a, b, p, q };
    }
    case "range_product": {
      const a = rng.int(11, 40);
      return { kind, a, b: a + rng.int(12, 25), p: 0, q: 0 };
    }
  }
}

export function generateToolProblems(
  seed: number,
  count: number,
  idPrefix: string,
  exclude: ReadonlySet<string> = new Set(),
): SimToolProblem[] {
  const rng = createRng(hashParts("sim-tools-generator", seed));
  const out: SimToolProblem[] = [];
  const seen = new Set(exclude);
  for (let guard = 0; out.length < count && guard < count * 50; guard++) {
    const x = generateOne(rng);
    const question = renderToolProblem(x);
    if (seen.has(question)) continue;
    seen.add(question);
    out.push({
      id: `${idPrefix}-${String(out.length + 1).padStart(3, "0")}`,
      question,
      answer: solveToolProblem(x),
      pitfalls: [...TOOL_PROBLEM_PITFALLS[x.kind]],
    });
  }
  return out;
}

export type SimToolDatasetName = "sim-tools-train" | "sim-tools-test";

/** `sim-tools-train` (60) and a disjoint `sim-tools-test` (150). */
export function simToolDataset(name: SimToolDatasetName): SimToolProblem[] {
  const train = generateToolProblems(40_001, 60, "sim-tools-train");
  if (name === "sim-tools-train") return train;
  return generateToolProblems(40_002, 150, "sim-tools-test", new Set(train.map((p) => p.question)));
}
