import { describe, it, expect } from "vitest";
import { buildJudgePrompt, parseJudgeReply } from "../../../src/verifiers/judge";

describe("buildJudgePrompt", () => {
  const msgs = buildJudgePrompt({ question: "2+2?", reference: "4", response: "four", objective: "Reward exact arithmetic." });
  it("starts with the stage heading and asks for JSON only", () => {
    expect(msgs[0]?.content.split("\n")[0]).toBe("### TASK: GRADE RESPONSE");
    expect(msgs[0]?.content).toContain('{"score"');
    expect(msgs[0]?.content).toContain("Reward exact arithmetic.");
  });
  it("puts question, reference and response in the user message", () => {
    expect(msgs[1]).toMatchObject({ role: "user" });
    for (const part of ["2+2?", "REFERENCE:\n4", "RESPONSE:\nfour"]) expect(msgs[1]?.content).toContain(part);
  });
});

describe("parseJudgeReply", () => {
  it("parses plain JSON", () => {
    expect(parseJudgeReply('{"score": 0.8, "critique": "Mostly right."}')).toEqual({ reward: 0.8, critique: "Mostly right." });
  });
  it("tolerates code fences and surrounding prose", () => {
    expect(parseJudgeReply('Sure!\n```json\n{"score": 1, "critique": "Correct."}\n```\nHope that helps')).toEqual({
      reward: 1,
      critique: "Correct.",
    });
  });
  it("accepts scores written as strings, fractions and percentages", () => {
    expect(parseJudgeReply('{"score": "0.8", "critique": "x"}')).toMatchObject({ reward: 0.8 });
    expect(parseJudgeReply('{"score": "1/1", "critique": "x"}')).toMatchObject({ reward: 1 });
    expect(parseJudgeReply('{"score": "3/4"}')).toMatchObject({ reward: 0.75, critique: "" });
    expect(parseJudgeReply('{"score": "50%", "critique": "x"}')).toMatchObject({ reward: 0.5 });
  });
  it("clamps to [0, 1]", () => {
    expect(parseJudgeReply('{"score": 7, "critique": "x"}')).toMatchObject({ reward: 1 });
    expect(parseJudgeReply('{"score": -2, "critique": "x"}')).toMatchObject({ reward: 0 });
  });
  it("skips braces in prose and finds the valid object", () => {
    expect(parseJudgeReply('The set {1,2} is fine. {"score": 0, "critique": "Wrong {set}."}')).toEqual({
      reward: 0,
      critique: "Wrong {set}.",
    });
  });
  it("returns an error for unusable replies", () => {
    for (const bad of ["", "no json here", '{"score": "high"}', '{"critique": "no score"}', "{not json}", null, 3]) {
      expect(parseJudgeReply(bad)).toHaveProperty("error");
    }
  });
});
