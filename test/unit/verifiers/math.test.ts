import { describe, it, expect } from "vitest";
import { mathEquivalent, verifyMath } from "../../../src/verifiers/math";

const same = (g: string, p: string) => expect(mathEquivalent(g, p), `${g} ≡ ${p}`).toBe(true);
const differ = (g: string, p: string) => expect(mathEquivalent(g, p), `${g} ≢ ${p}`).toBe(false);

describe("verifyMath: extraction", () => {
  it("takes the last \\boxed{} when several are far apart", () => {
    const r = verifyMath("First I thought \\boxed{3}. Then after a long recheck of every step I found the truth: \\boxed{5}", "5");
    expect(r).toMatchObject({ reward: 1, extracted: "5" });
    expect(verifyMath("First \\boxed{5}. After a careful recheck of everything, the result is \\boxed{3}", "5").reward).toBe(0);
  });
  it("handles nested braces inside \\boxed and \\fbox", () => {
    expect(verifyMath("so $\\boxed{\\frac{\\sqrt{3}}{2}}$", "\\frac{\\sqrt3}{2}")).toMatchObject({
      reward: 1,
      extracted: "\\frac{\\sqrt{3}}{2}",
    });
    expect(verifyMath("\\fbox{42}", "42").reward).toBe(1);
  });
  it("falls back to a final-answer phrase, then to the last number", () => {
    expect(verifyMath("Final Answer: The final answer is $12$. I hope it is correct.", "12").reward).toBe(1);
    expect(verifyMath("We add them up and get 7 apples, so there are 19 in total", "19").reward).toBe(1);
  });
  it("scores empty, non-string and answer-free responses 0 with a critique", () => {
    for (const bad of ["", "   ", null, undefined, 42, { a: 1 }]) {
      const r = verifyMath(bad, "1");
      expect(r.reward).toBe(0);
      expect(r.critique).toBeTruthy();
    }
    expect(verifyMath("I don't know.", "1")).toMatchObject({ reward: 0, extracted: null });
  });
  it("gives a critique naming the wrong answer", () => {
    const r = verifyMath("\\boxed{4}", "5");
    expect(r.reward).toBe(0);
    expect(r.critique).toContain("4");
  });
  it("accepts a numeric reference", () => {
    expect(verifyMath("\\boxed{204}", 204).reward).toBe(1);
  });
});

describe("mathEquivalent: numbers", () => {
  it("integers, decimals, negatives, thousands separators", () => {
    same("-5", "-5");
    same("1000", "1,000");
    same("$14916$", "$\\boxed{14{,}916}$");
    same("0.5", ".5");
    differ("7425000", "7425001");
    differ("$2$", "$3$");
  });
  it("fractions in every spelling", () => {
    for (const p of ["\\frac{1}{2}", "\\dfrac{1}{2}", "\\tfrac12", "\\frac12", "1/2", "0.5"]) same("$\\frac{1}{2}$", `$${p}$`);
    differ("$\\frac{1}{2}$", "$\\frac{2}{1}$");
  });
  it("roots, pi and simple symbolic forms", () => {
    same("$3\\sqrt{13}$", "$\\sqrt{117}$");
    same("$\\sqrt{3}$", "$\\sqrt3$");
    same("$2\\pi$", "$\\pi \\cdot 2$");
    same("$\\frac{9}{4}\\pi$", "$2.25\\pi$");
    differ("$\\sqrt{2}$", "$\\sqrt{3}$");
  });
  it("percent, degrees, units and text wrappers", () => {
    same("$50\\%$", "$50$");
    same("$50\\%$", "$0.5$");
    same("$90^\\circ$", "$90$");
    same("$90^{\\circ}$", "$90$");
    same("$15$", "$15\\text{ cm}$");
    same("$15$", "$15 \\mbox{ cm}^2$");
    same("$20$", "$\\$20$");
    same("$\\text{Evelyn}$", "\\boxed{\\text{Evelyn}}");
  });
  it("scientific notation and infinity", () => {
    same("$1500$", "$1.5 \\times 10^{3}$");
    same("$(1, \\infty)$", "$(1, +\\infty)$");
    differ("$\\infty$", "$-\\infty$");
  });
});

describe("mathEquivalent: structures", () => {
  it("tuples are ordered, sets are not", () => {
    same("$(1,2)$", "$\\left( 1, 2 \\right)$");
    differ("$(1,2)$", "$(2,1)$");
    same("$\\{1,2\\}$", "$\\{2,1\\}$");
    same("$1, 2$", "$2, 1$");
  });
  it("intervals and unions keep their brackets", () => {
    same("$[0,1)$", "$[0, 1)$");
    differ("$[0,1)$", "$(0,1)$");
    same("$(-\\infty, 0) \\cup (1, \\infty)$", "$(-\\infty,0)\\cup(1,\\infty)$");
  });
  it("equations: assignments, chains and equivalent forms", () => {
    same("$5$", "$x = 5$");
    same("$x = 5$", "$5$");
    same("$a=2,b=3$", "$2, 3$");
    same("$2x+4y-3=0$", "$y=-\\frac{1}{2}x+\\frac{3}{4}$");
    differ("$a + 3z = 0$", "$0$");
  });
  it("inequalities compare with flips; a gold range accepts the interval", () => {
    same("$x \\leq 5$", "$5 \\geq x$");
    differ("$x > 5$", "$x < 5$");
    same("$-2 \\le x \\le 7$", "$x \\in [-2,7]$");
  });
  it("algebraic expressions are compared at seeded random points", () => {
    same("$\\frac{x+2}{7}$", "$\\frac{x}{7}+\\frac{2}{7}$");
    same("$(a+b)^2$", "$a^2+2ab+b^2$");
    differ("$x+2n+1$", "$x+1$");
    same("$\\tan^2(y)+1$", "$\\sec^2(y)$");
  });
  it("matrices, including evaluated sums", () => {
    same("$\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}$", "$\\begin{bmatrix}1 & 0 \\\\ 0 & 1\\end{bmatrix}$");
    differ("$\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}$", "$\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}$");
  });
  it("± expands to both values", () => {
    same("$1 \\pm \\sqrt{19}$", "$\\{1+\\sqrt{19}, 1-\\sqrt{19}\\}$");
    differ("$\\pm 2021$", "$2021$");
  });
  it("never throws on garbage", () => {
    for (const junk of ["", "}}}{{{", "\\frac{", "$$$", "\\boxed{", "((((", "1/0", "\\sqrt{-1}"]) {
      expect(() => mathEquivalent("1", junk)).not.toThrow();
    }
    expect(mathEquivalent("1", "}}}{{{")).toBe(false);
    expect(verifyMath(`\\boxed{${"(".repeat(20000)}1${")".repeat(20000)}}`, "1").reward).toBeLessThanOrEqual(1);
  });
});
