import { describe, expect, it } from "vitest";
import { renderLibrary } from "../../../src/core/library";
import { generateProblems } from "../../../src/sim/dataset";
import { PITFALL_IDS, PITFALLS, type PitfallId } from "../../../src/sim/pitfalls";
import { answerRollout, extractFinalAnswer, sameAnswer } from "../../../src/sim/solver";

const problems = generateProblems(11, 600);

function accuracy(pitfall: PitfallId, system: string, temperature = 0.7): { acc: number; wrongMethods: number; lines: string[] } {
  const rows = problems.filter((p) => p.pitfalls.length === 1 && p.pitfalls[0] === pitfall).slice(0, 60);
  const pit = PITFALLS.find((p) => p.id === pitfall);
  let ok = 0;
  let wrongMethods = 0;
  const lines: string[] = [];
  rows.forEach((p, i) => {
    const text = answerRollout({
      lastUser: p.question,
      promptText: `${system}\n${p.question}`,
      temperature,
      seed: i,
      choice: 0,
      messagesKey: "k",
    });
    lines.push(text);
    if (pit && text.includes(pit.wrongMethod)) wrongMethods++;
    if (sameAnswer(extractFinalAnswer(text) ?? "", p.answer)) ok++;
  });
  return { acc: ok / rows.length, wrongMethods, lines };
}

describe("solver", () => {
  // Tool-use pitfalls have their own problems and tests (test/unit/tools/simTools.test.ts).
  for (const p of PITFALLS.filter((x) => (PITFALL_IDS as readonly string[]).includes(x.id))) {
    it(`${p.id}: errs often without help, rarely with any good wording, and topic-only does not help`, () => {
      const none = accuracy(p.id, "");
      expect(none.acc).toBeGreaterThan(0.2);
      expect(none.acc).toBeLessThan(0.75);
      expect(none.wrongMethods).toBeGreaterThan(10);
      for (const e of [p.experience, ...p.paraphrases]) {
        const lib = renderLibrary([{ id: "E4", ...e }]);
        const helped = accuracy(p.id, lib);
        expect(helped.acc, e.text).toBeGreaterThan(0.9);
        expect(helped.lines.some((l) => l.includes("applying [E4]"))).toBe(true);
      }
      const topic = accuracy(p.id, renderLibrary([{ id: "E1", ...p.topicOnly }]));
      expect(topic.acc).toBe(none.acc);
    });
  }

  it("error rate rises with temperature", () => {
    const cold = accuracy("inclusive_count", "", 0);
    const hot = accuracy("inclusive_count", "", 1.5);
    expect(cold.acc).toBeGreaterThan(hot.acc);
  });

  it("shows its method at each step and ends with a boxed answer", () => {
    const q = "How many integers are there from 12 to 47, inclusive?";
    const texts = Array.from({ length: 20 }, (_, i) =>
      answerRollout({ lastUser: q, promptText: q, temperature: 0.7, seed: i, choice: 0, messagesKey: "k" }),
    );
    expect(
      texts.some((t) => t.includes("taking the difference of the endpoints, 47 − 12 = 35 integers") && t.endsWith("\\boxed{35}.")),
    ).toBe(true);
    expect(texts.some((t) => t.includes("counting both endpoints, 47 − 12 + 1 = 36 integers") && t.endsWith("\\boxed{36}."))).toBe(true);
  });

  it("does not mistake the problem's own wording for an experience", () => {
    // The fence problem says "a post at each end"; that must not count as a lesson about fence posts.
    const rows = problems.filter((p) => p.question.startsWith("A straight fence is") && p.pitfalls.length === 1).slice(0, 40);
    const wrong = rows.filter((p, i) => {
      const t = answerRollout({ lastUser: p.question, promptText: p.question, temperature: 0.7, seed: i, choice: 0, messagesKey: "k" });
      return t.includes("counting one post per gap");
    });
    expect(wrong.length).toBeGreaterThan(5);
  });

  it("answers unknown text like a weak model: formatted, boxed, from the text's numbers", () => {
    const aime = "Find the number of ordered pairs of integers (x, y) with 1 <= x, y <= 2024 such that x^2 + y^2 is divisible by 7.";
    const texts = Array.from({ length: 10 }, (_, i) =>
      answerRollout({ lastUser: aime, promptText: aime, temperature: 0.7, seed: i, choice: 0, messagesKey: "k" }),
    );
    for (const t of texts) {
      expect(t).toMatch(/\\boxed\{-?[\d.]+\}/);
      expect(t).toContain("Step 1 (identify quantities)");
    }
  });

  it("extracts and compares final answers", () => {
    expect(extractFinalAnswer("so \\boxed{12} then \\boxed{13}.")).toBe("13");
    expect(extractFinalAnswer("The answer is 42.")).toBe("42");
    expect(sameAnswer("112.50", "112.5")).toBe(true);
    expect(sameAnswer("1,200", "1200")).toBe(true);
    expect(sameAnswer("3", "4")).toBe(false);
  });
});
