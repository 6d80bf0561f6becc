import { describe, it, expect } from "vitest";
import { verifyExact } from "../../../src/verifiers/exact";
import { verifyNumeric } from "../../../src/verifiers/numeric";
import { verifyRegex } from "../../../src/verifiers/regex";
import { verifyChoice } from "../../../src/verifiers/choice";

describe("exact", () => {
  it("ignores case, whitespace, quotes, surrounding punctuation and LaTeX text wrappers", () => {
    expect(verifyExact('  "Paris".  ', "paris").reward).toBe(1);
    expect(verifyExact("New   York", "new york").reward).toBe(1);
    expect(verifyExact("$\\text{Evelyn}$", "Evelyn").reward).toBe(1);
    expect(verifyExact("\\boxed{\\textbf{Yes}}!", "yes").reward).toBe(1);
  });
  it("does not accept a different or longer answer", () => {
    const r = verifyExact("Paris, France", "Paris");
    expect(r.reward).toBe(0);
    expect(r.critique).toContain("Paris");
  });
  it("scores empty and non-string input 0", () => {
    expect(verifyExact("", "a").reward).toBe(0);
    expect(verifyExact(undefined, "a").reward).toBe(0);
    expect(verifyExact("a", null).reward).toBe(0);
  });
});

describe("numeric", () => {
  it("reads the last number, with separators, fractions and scientific notation", () => {
    expect(verifyNumeric("The total is 1,234.5 dollars", "1234.5")).toMatchObject({ reward: 1 });
    expect(verifyNumeric("about 1.5e3 units", 1500).reward).toBe(1);
    expect(verifyNumeric("\\boxed{3/4}", "0.75").reward).toBe(1);
    expect(verifyNumeric("first 3 then -7", "-7").reward).toBe(1);
  });
  it("applies absolute and relative tolerances", () => {
    expect(verifyNumeric("3.14", "3.14159").reward).toBe(0);
    expect(verifyNumeric("3.14", "3.14159", { absTol: 0.01 }).reward).toBe(1);
    expect(verifyNumeric("1010", "1000", { relTol: 0.02 }).reward).toBe(1);
    expect(verifyNumeric("1030", "1000", { relTol: 0.02 }).reward).toBe(0);
  });
  it("scores responses without a number, and non-numeric references, 0", () => {
    expect(verifyNumeric("no idea", "3")).toMatchObject({ reward: 0, extracted: null });
    expect(verifyNumeric("3", "three").reward).toBe(0);
    expect(verifyNumeric(12, "12").reward).toBe(0);
  });
});

describe("regex", () => {
  it("matches the reference as a pattern, or options.pattern with flags", () => {
    expect(verifyRegex("The capital is Paris.", "\\bParis\\b")).toMatchObject({ reward: 1, extracted: "Paris" });
    expect(verifyRegex("the capital is paris", "ignored", { pattern: "PARIS", flags: "i" }).reward).toBe(1);
    expect(verifyRegex("London", "Paris").reward).toBe(0);
  });
  it("turns an invalid pattern into reward 0 with a critique instead of throwing", () => {
    const r = verifyRegex("anything", "([unclosed");
    expect(r.reward).toBe(0);
    expect(r.critique).toMatch(/Invalid pattern/);
  });
  it("ignores the stateful g/y flags", () => {
    expect(verifyRegex("abc abc", "x", { pattern: "abc", flags: "gy" }).reward).toBe(1);
  });
});

describe("choice", () => {
  const cases: [string, string][] = [
    ["The correct option is (B).", "B"],
    ["Answer: B", "B"],
    ["so $\\boxed{B}$", "B"],
    ["\\boxed{\\text{(C)}}", "C"],
    ["After all that, the answer is b.", "B"],
    ["I pick option D", "D"],
    ["E", "E"],
  ];
  it.each(cases)("reads %j as %s", (response, letter) => {
    expect(verifyChoice(response, letter)).toMatchObject({ reward: 1, extracted: letter });
  });
  it("prefers the explicit final answer over letters mentioned earlier", () => {
    expect(verifyChoice("(A) is tempting but wrong. Answer: C", "C").reward).toBe(1);
  });
  it("does not read 'a' in prose as option A", () => {
    expect(verifyChoice("the answer is a bit unclear", "A").reward).toBe(0);
  });
  it("accepts a reference written as (D) or d", () => {
    expect(verifyChoice("Answer: D", "(D)").reward).toBe(1);
    expect(verifyChoice("Answer: D", "d").reward).toBe(1);
  });
  it("scores a wrong letter, no letter, and garbage 0", () => {
    expect(verifyChoice("Answer: A", "B")).toMatchObject({ reward: 0, extracted: "A" });
    expect(verifyChoice("I am not sure", "B")).toMatchObject({ reward: 0, extracted: null });
    expect(verifyChoice(null, "B").reward).toBe(0);
  });
});
