import { describe, expect, it } from "vitest";
import { compileLinear, execLinear, RegexBudgetError, RegexSyntaxError } from "../../../src/verifiers/linearRegex";
import { verifyRegex } from "../../../src/verifiers/regex";
import { verifierSpecSchema } from "../../../src/verifiers";

/** Issue 16, "Hostile input": the regex verifier runs on a linear-time matcher with bounded work. */

describe("Hostile input: regex verifier safe against catastrophic backtracking", () => {
  // Each of these takes the backtracking RegExp engine longer than the age of the universe on this input.
  const evil = `${"a".repeat(30_000)}!`;
  it.each(["(a+)+$", "^(a|aa)*$", "(a*)*b", "(\\w+\\s?)+$", "^(a|a?)+$", "(.*a){25}$"])("answer /%s/ scores 0 on 30,000 a's", (pattern) => {
    const r = verifyRegex(evil, pattern);
    expect(r.reward).toBe(0);
  });

  it("stops a match past its step budget instead of running on", () => {
    const re = compileLinear("(a|b|c|d|e)*z");
    expect(() => execLinear(re, "abcde".repeat(10_000), 10_000)).toThrow(RegexBudgetError);
    expect(verifyRegex("x".repeat(100), "(.*.*.*.*.*){40}y").reward).toBe(0);
  });

  it("refuses what needs backtracking (backreferences, lookaround) with a clear reason, at save time too", () => {
    expect(() => compileLinear("(a)\\1")).toThrow(RegexSyntaxError);
    expect(() => compileLinear("a(?=b)")).toThrow(/lookahead/);
    expect(verifyRegex("aa", "(a)\\1")).toMatchObject({ reward: 0, critique: expect.stringContaining("backreferences") });
    const spec = verifierSpecSchema.safeParse({ kind: "regex", options: { pattern: "(?<=x)y" } });
    expect(spec.success).toBe(false);
  });

  // Same whole match as JavaScript's engine on patterns it handles quickly.
  const cases: [string, string, string][] = [
    ["abc", "", "xxabcxx"],
    ["a|ab", "", "abc"],
    ["ab|a", "", "abc"],
    ["a*", "", "baaa"],
    ["a*?b", "", "aaab"],
    ["a+?", "", "aaa"],
    ["(a|b)*c", "", "ababxababc"],
    ["\\d{2,4}", "", "a12345"],
    ["\\d{2,4}?", "", "a12345"],
    ["x{3}", "", "xxxxx"],
    ["x{2,}", "", "xxxxx"],
    ["^\\s*answer:\\s*(\\w+)$", "m", "foo\n  answer: 42\nbar"],
    ["^b", "", "a\nb"],
    ["^b", "m", "a\nb"],
    ["a.c", "", "a\nc abc"],
    ["a.c", "s", "a\nc"],
    ["\\bcat\\b", "", "concat cat"],
    ["\\Bcat", "", "cat concat"],
    ["[a-c]+", "", "xxbcaz"],
    ["[^a-c]+", "", "abcxyzab"],
    ["[\\d.]+", "", "v1.25!"],
    ["[-a]+", "", "x-a-"],
    ["PARIS", "i", "the capital is paris"],
    ["[A-Z]+", "i", "abcDEF1"],
    ["\\\\boxed\\{(\\d+)\\}", "", "so \\boxed{17} it is"],
    ["(?:ab)+", "", "xababab"],
    ["(?<n>\\d+)-(\\d+)", "", "range 3-9"],
    ["colou?r", "", "my color"],
    ["\\x41\\u0042", "", "zAB"],
    ["a{0}b", "", "ab"],
    ["(a|)+b", "", "aab"],
    ["$", "", "abc"],
    ["()", "", "abc"],
    ["[]", "", "abc"],
    ["[^]", "", "abc"],
    ["-?\\d+(\\.\\d+)?", "", "t = -3.75 s"],
    ["(a*)*?b", "", "aaab"],
    ["\\$\\d+", "", "cost $45"],
  ];
  it.each(cases)("matches /%s/%s on %j as JavaScript does", (pattern, flags, input) => {
    const ours = execLinear(compileLinear(pattern, flags), input);
    const theirs = new RegExp(pattern, flags).exec(input);
    expect(ours).toEqual(theirs ? { index: theirs.index, text: theirs[0] } : null);
  });
});
