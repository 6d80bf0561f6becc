import { describe, expect, it } from "vitest";
import { generateProblems, simDataset } from "../../../src/sim/dataset";
import { trueAnswer } from "../../../src/sim/generator";
import { PITFALL_IDS } from "../../../src/sim/pitfalls";
import { TEMPLATES, findProblem, fmt } from "../../../src/sim/templates";

/** Independent recomputation of the answer from the question's numbers, per template. */
function recompute(question: string): number | null {
  const nums = [...question.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
  const [a = NaN, b = NaN, c = NaN, d = NaN, e = NaN] = nums;
  const mod = (x: number, m: number): number => ((x % m) + m) % m;
  if (/^How many integers are there from/.test(question)) return b - a + 1;
  if (/^Evaluate /.test(question)) return a + b * c;
  if (/^What is the value of/.test(question)) return a - b * c + d;
  if (/price increase, a jacket/.test(question)) return b / (1 + a / 100);
  if (/discount, a lamp/.test(question)) return b / (1 - a / 100);
  if (/^A film lasts/.test(question)) return a * 60 + b;
  if (/^Compute -?\d+ mod/.test(question)) return mod(a, b);
  if (/^The days of the week/.test(question)) return mod(d - e, 7); // numbers: 0, 6, 0, today, days ago
  if (/^A straight fence is [\d.]+ km/.test(question)) return (a * 1000) / b + 1;
  if (/^A straight fence is/.test(question)) return a / b + 1;
  if (/^Seats numbered/.test(question)) return (b - a + 1) * (c + d * e);
  if (/training session lasts/.test(question)) return (b * 60) / (1 + a / 100);
  return null;
}

describe("generator", () => {
  it("is deterministic in its seed", () => {
    expect(generateProblems(7, 40)).toEqual(generateProblems(7, 40));
    expect(generateProblems(7, 40)).not.toEqual(generateProblems(8, 40));
  });

  it("produces varied problems covering every template and pitfall, some with two pitfalls", () => {
    const rows = generateProblems(1, 300);
    expect(new Set(rows.map((r) => r.question)).size).toBe(300);
    const templates = new Set(rows.map((r) => findProblem(r.question)?.template.id));
    expect(templates.size).toBe(TEMPLATES.length);
    for (const id of PITFALL_IDS) expect(rows.some((r) => r.pitfalls.includes(id))).toBe(true);
    const combos = rows.filter((r) => r.pitfalls.length >= 2).length;
    expect(combos).toBeGreaterThan(30);
  });

  it("answers are correct by construction (independent recomputation)", () => {
    let checked = 0;
    for (const r of generateProblems(3, 400)) {
      const v = recompute(r.question);
      if (v === null) continue;
      checked++;
      expect(r.answer, r.question).toBe(fmt(v));
    }
    expect(checked).toBeGreaterThan(200);
  });

  it("parses its own questions back and recomputes the same answer", () => {
    for (const r of generateProblems(5, 200)) {
      const found = findProblem(`Some preamble.\n${r.question}\nPlease answer.`);
      expect(found, r.question).not.toBeNull();
      if (!found) continue;
      expect(found.text).toBe(r.question);
      expect(fmt(trueAnswer(found.template, found.params))).toBe(r.answer);
    }
  });

  it("ships sim-train (100) and a disjoint sim-test (300)", () => {
    const train = simDataset("sim-train");
    const test = simDataset("sim-test");
    expect(train).toHaveLength(100);
    expect(test).toHaveLength(300);
    const trainQs = new Set(train.map((r) => r.question));
    expect(test.some((r) => trainQs.has(r.question))).toBe(false);
    expect(new Set([...train, ...test].map((r) => r.id)).size).toBe(400);
    for (const r of [...train, ...test]) {
      expect(r).toEqual({ id: expect.any(String), question: expect.any(String), answer: expect.any(String), pitfalls: expect.any(Array) });
    }
  });
});
