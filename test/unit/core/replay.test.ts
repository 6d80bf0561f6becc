import { describe, expect, it } from "vitest";
import { LIBRARY_INTRO } from "../../../src/core/library";
import {
  candidateFirst,
  capturedConversation,
  critiqueOrder,
  pairRewards,
  pickCaptures,
  replayMessages,
  scoresByVersion,
} from "../../../src/core/replay";
import { pairJudgePrompt, parseCritiqueScores, parsePairVerdict, replayCritiquePrompt } from "../../../src/core/replayPrompts";
import { STAGE_HEADINGS } from "../../../src/core/prompts";
import { createSimulatedModel, simDataset } from "../../../src/sim";
import { pairJudgeReply, replayCritiqueReply, soundness } from "../../../src/sim/stages/replayJudge";
import { HAND_WRITTEN } from "../../fixtures/handWrittenLibraries";

describe("pickCaptures", () => {
  it("picks by the seed alone, whatever the order the ids come in, without repeats", () => {
    const ids = Array.from({ length: 50 }, (_, i) => `req_${i}`);
    const a = pickCaptures(ids, 10, 7);
    expect(a).toHaveLength(10);
    expect(new Set(a).size).toBe(10);
    expect(pickCaptures([...ids].reverse(), 10, 7)).toEqual(a);
    expect(pickCaptures(ids, 10, 8)).not.toEqual(a);
    expect(pickCaptures(["x", "x", "y"], 10, 1).sort()).toEqual(["x", "y"]);
  });
});

describe("capturedConversation and replayMessages", () => {
  it("keeps the text conversation, merges the library as the chat endpoint does, and needs a user message", () => {
    const request = {
      model: "m",
      messages: [
        { role: "developer", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is 2+2?" },
            { type: "image_url", image_url: { url: "data:" } },
          ],
        },
        { role: "assistant", content: null, tool_calls: [{ id: "1" }] },
        { role: "tool", content: "4", tool_call_id: "1" },
      ],
    };
    const conversation = capturedConversation(request);
    expect(conversation).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is 2+2?" },
    ]);
    const library = [{ id: "E1", name: "Sums", text: "Add carefully.", provenance: [] }];
    expect(replayMessages(conversation!, library, "after")[0]).toEqual({
      role: "system",
      content: `Be brief.\n\n${LIBRARY_INTRO}\n[E1] Sums: Add carefully.`,
    });
    expect(capturedConversation({ messages: [{ role: "system", content: "x" }] })).toBeNull();
    expect(capturedConversation("nope")).toBeNull();
  });
});

describe("judging without labels", () => {
  it("shows the 2G attempts in a seeded order and maps the scores back to each version", () => {
    const order = critiqueOrder(3, 1, 0);
    expect([...order].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(critiqueOrder(3, 1, 0)).toEqual(order);
    // Candidate attempts score 1, baseline attempts 0, whatever positions they were shown at.
    const scores = order.map((attempt) => (attempt < 3 ? 1 : 0));
    expect(scoresByVersion(order, scores, 3)).toEqual({ candidate: [1, 1, 1], baseline: [0, 0, 0] });
    // Over many captures, neither version is always shown first.
    const firstIsCandidate = Array.from({ length: 40 }, (_, c) => critiqueOrder(2, 1, c)[0]! < 2).filter(Boolean).length;
    expect(firstIsCandidate).toBeGreaterThan(5);
    expect(firstIsCandidate).toBeLessThan(35);
    const aFirst = Array.from({ length: 40 }, (_, j) => candidateFirst(1, 0, j)).filter(Boolean).length;
    expect(aFirst).toBeGreaterThan(5);
    expect(aFirst).toBeLessThan(35);
  });

  it("turns a pairwise verdict into rewards for whichever side the candidate was shown on", () => {
    expect(pairRewards("A", true)).toEqual({ candidate: 1, baseline: 0 });
    expect(pairRewards("A", false)).toEqual({ candidate: 0, baseline: 1 });
    expect(pairRewards("B", false)).toEqual({ candidate: 1, baseline: 0 });
    expect(pairRewards("tie", true)).toEqual({ candidate: 0.5, baseline: 0.5 });
  });

  it("parses critique scores only when every attempt is scored once", () => {
    expect(parseCritiqueScores('```json\n{"scores": [{"attempt": 2, "score": "80%"}, {"attempt": 1, "score": 0}]}\n```', 2)).toEqual({
      ok: true,
      value: [0, 0.8],
    });
    expect(parseCritiqueScores('{"scores": [{"attempt": 1, "score": 1}]}', 2)).toMatchObject({
      ok: false,
      error: "attempt 2 has no score",
    });
    expect(parseCritiqueScores('{"scores": [{"attempt": 1, "score": 1}, {"attempt": 1, "score": 0}]}', 2)).toMatchObject({ ok: false });
    expect(parseCritiqueScores('{"scores": [{"attempt": 3, "score": 1}]}', 2)).toMatchObject({ ok: false });
    expect(parseCritiqueScores('{"scores": [{"attempt": 1, "score": 2}]}', 1)).toMatchObject({ ok: false });
    expect(parsePairVerdict('{"winner": "Response B", "critique": "x"}')).toEqual({ ok: true, value: "B" });
    expect(parsePairVerdict('{"winner": "tie"}')).toEqual({ ok: true, value: "tie" });
    expect(parsePairVerdict('{"winner": "C"}')).toMatchObject({ ok: false });
  });

  it("the prompts name no library and carry the stage heading the simulated model answers", () => {
    const conversation = [{ role: "user" as const, content: "Q?" }];
    const critique = replayCritiquePrompt({ objective: "", conversation, attempts: ["one", "two"] })[1]!.content;
    expect(critique.startsWith(STAGE_HEADINGS.replayCritique)).toBe(true);
    expect(critique).not.toMatch(/version|library/i);
    const pair = pairJudgePrompt({ objective: "", conversation, a: "one", b: "two" })[1]!.content;
    expect(pair.startsWith(STAGE_HEADINGS.pairJudge)).toBe(true);
  });
});

describe("the simulated model judges by the soundness of the steps it can read", () => {
  const problem = simDataset("sim-test").find((p) => /inclusive|from \d+ to \d+/i.test(p.question)) ?? simDataset("sim-test")[0]!;
  async function answer(system: string, seed: number): Promise<string> {
    const sim = createSimulatedModel();
    const res = await sim.fetch(
      new Request("http://sim/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({
          model: "sim-1",
          seed,
          temperature: 0.7,
          messages: [
            { role: "system", content: system },
            { role: "user", content: problem.question },
          ],
        }),
      }),
    );
    return ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
  }

  it("scores wrong steps 0, sound steps 1, unrecognisable work ½, and no answer 0", async () => {
    const misleading = Object.values(HAND_WRITTEN)
      .flatMap((p) => p.misleading)
      .map((e, i) => `[E${i + 1}] ${e.name}: ${e.text}`)
      .join("\n");
    const scores: number[] = [];
    for (let seed = 0; seed < 20; seed++) scores.push(soundness(await answer(misleading, seed)).score);
    expect(scores.filter((s) => s === 0).length).toBeGreaterThan(10);
    expect(soundness("Step 1 (combine): adding, 2 + 3 = 5.\nSo the answer is \\boxed{5}.").score).toBe(0.5);
    expect(soundness("I do not know.").score).toBe(0);
    const critique = JSON.parse(
      replayCritiqueReply('<attempt index="1">\nI do not know.\n</attempt>\n<attempt index="2">\nSo \\boxed{4}.\n</attempt>'),
    ) as {
      scores: { attempt: number; score: number }[];
    };
    expect(critique.scores.map((s) => [s.attempt, s.score])).toEqual([
      [1, 0],
      [2, 0.5],
    ]);
    expect(
      JSON.parse(pairJudgeReply('<response label="A">\nnone\n</response>\n<response label="B">\nSo \\boxed{4}.\n</response>')),
    ).toMatchObject({
      winner: "B",
    });
  });
});
