import { describe, expect, it } from "vitest";
import { advantagePrompt, summaryPrompt } from "../../../src/core/prompts";

const library = [{ id: "E1", name: "Ranges", text: "When a range is inclusive, add one to the difference of its ends.", provenance: [] }];
const text = (m: { content: string }[]) => m.map((x) => x.content).join("\n");

describe("what the reflection prompts see (docs/learning.md)", () => {
  it("without ground truth, neither the answer nor any reward or critique reaches a prompt", () => {
    const summary = text(
      summaryPrompt({
        objective: "",
        question: "How many integers from 3 to 9?",
        answer: null,
        response: "\\boxed{6}",
        reward: null,
        critique: "off by one",
        library,
      }),
    );
    const advantage = text(
      advantagePrompt({
        objective: "",
        question: "How many integers from 3 to 9?",
        answer: null,
        attempts: [
          { summary: "s1", reward: null },
          { summary: "s2", reward: null },
        ],
        maxExperiences: 1,
        maxWords: 32,
        library,
      }),
    );
    for (const prompt of [summary, advantage]) {
      expect(prompt).not.toMatch(/Reference answer:|Reward of this attempt|reward="|critique|off by one/);
      expect(prompt).toMatch(/No reference answer is available/);
    }
    expect(advantage).toMatch(/judge the attempts against each other/);
    expect(advantage).toMatch(/<credit>/);
  });

  it("with ground truth, the answer, each reward and the critique are shown", () => {
    const summary = text(
      summaryPrompt({ objective: "", question: "q", answer: "7", response: "\\boxed{6}", reward: 0, critique: "off by one", library }),
    );
    expect(summary).toMatch(/Reference answer: 7\nReward of this attempt: 0\nGrader's critique: off by one/);
    const advantage = text(
      advantagePrompt({
        objective: "",
        question: "q",
        answer: "7",
        attempts: [{ summary: "s1", reward: 1 }],
        maxExperiences: 1,
        maxWords: 32,
        library: [],
      }),
    );
    expect(advantage).toMatch(/Reference answer: 7/);
    expect(advantage).toMatch(/reward="1"/);
    expect(advantage).not.toMatch(/<credit>/);
  });
});
