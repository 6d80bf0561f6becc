import { describe, expect, it } from "vitest";
import { applyCredit, deletionCandidates, parseCredit, tallyCredit } from "../../../src/core/credit";
import type { Experience } from "../../../src/core/library";
import { applyPlan } from "../../../src/core/operations";
import { refuseVague, vagueReason } from "../../../src/core/specificity";
import { advantageReply } from "../../../src/sim/stages/advantage";
import { advantagePrompt, batchUpdatePrompt } from "../../../src/core/prompts";
import { batchUpdateOps } from "../../../src/sim/stages/batchUpdate";
import { createRng } from "../../../src/sim/rng";

const item = (id: string, text = "When a range is inclusive, count both ends by adding one."): Experience => ({
  id,
  name: id,
  text,
  provenance: [],
});

describe("credit per experience", () => {
  it("reads per-rollout credit, ignoring unknown ids and rollouts out of range", () => {
    const text = `<credit>\n<rollout index="1">E1 helped, E2 hurt</rollout>\n<rollout index="2">[E1]: helpful; E9 hurt</rollout>\n<rollout index="7">E1 helped</rollout>\n</credit>`;
    expect(parseCredit(text, ["E1", "E2"], 5)).toEqual([
      { rollout: 1, id: "E1", verdict: "helped" },
      { rollout: 1, id: "E2", verdict: "hurt" },
      { rollout: 2, id: "E1", verdict: "helped" },
    ]);
    expect(parseCredit("<analysis>no credit block</analysis>", ["E1"], 5)).toEqual([]);
  });

  it("accumulates by stable id across batches and survives an UPDATE into the next version", () => {
    let items = [item("E1"), item("E2")];
    items = applyCredit(
      items,
      tallyCredit([
        { rollout: 1, id: "E1", verdict: "helped" },
        { rollout: 2, id: "E2", verdict: "hurt" },
      ]),
    );
    items = applyPlan(items, [{ op: "UPDATE", id: "E1", text: "When counting a closed range, take last minus first plus one." }], {
      runId: "r",
      epoch: 0,
      batch: 1,
      highestId: 2,
    }).items;
    items = applyCredit(items, tallyCredit([{ rollout: 1, id: "E1", verdict: "helped" }]));
    expect(items.find((i) => i.id === "E1")?.stats).toEqual({ cited: 2, helpful: 2, harmful: 0, batches: 2 });
    expect(items.find((i) => i.id === "E2")?.stats).toEqual({ cited: 1, helpful: 0, harmful: 1, batches: 2 });
  });

  it("proposes deleting an item that hurt more than it helped, and one never cited over N batches", () => {
    const items: Experience[] = [
      { ...item("E1"), stats: { cited: 3, helpful: 1, harmful: 2, batches: 2 } },
      { ...item("E2"), stats: { cited: 0, helpful: 0, harmful: 0, batches: 3 } },
      { ...item("E3"), stats: { cited: 4, helpful: 3, harmful: 1, batches: 3 } },
      { ...item("E4"), stats: { cited: 0, helpful: 0, harmful: 0, batches: 2 } },
    ];
    expect(deletionCandidates(items, 3).map((c) => c.id)).toEqual(["E1", "E2"]);
  });

  it("the batch update sees the record and keeps the proposed deletion of a harmful item", () => {
    const library: Experience[] = [
      {
        ...item("E1", "When counting the integers in a closed range, include both endpoints: the count is last − first + 1."),
        stats: { cited: 5, helpful: 5, harmful: 0, batches: 2 },
      },
      {
        ...item("E2", "The number of integers in a range is the last minus the first; do not add one."),
        stats: { cited: 4, helpful: 1, harmful: 3, batches: 2 },
      },
    ];
    const proposals = deletionCandidates(library, 3).map((c) => ({ group: null, op: "DELETE", id: c.id, reason: c.reason }));
    expect(proposals).toEqual([{ group: null, op: "DELETE", id: "E2", reason: "hurt more than it helped (helpful 1, harmful 3)" }]);
    const prompt = batchUpdatePrompt({ objective: "", proposals, library, maxExperiences: 40, maxWords: 32 })[1]?.content ?? "";
    expect(prompt).toContain("[E2] cited 4, helpful 1, harmful 3, over 2 batch(es)");
    expect(prompt).toContain('(credit record) {"op":"DELETE","id":"E2"');
    expect(batchUpdateOps(prompt)).toEqual([{ op: "DELETE", id: "E2", reason: "hurt more than it helped (helpful 1, harmful 3)" }]);
  });

  it("the simulated reviewer credits the items its summaries say were followed or misled", () => {
    const library = [item("E1"), item("E2")];
    const prompt = advantagePrompt({
      objective: "",
      question: "q",
      answer: "1",
      attempts: [
        {
          summary: "Step 1 (count): handled the inclusive counting pitfall correctly — it counted both ends, following experience E1.",
          reward: 1,
        },
        { summary: "Step 1 (count): went wrong at the inclusive counting pitfall — misled by experience E2.", reward: 0 },
      ],
      maxExperiences: 1,
      maxWords: 32,
      library,
    });
    const reply = advantageReply(prompt[1]?.content ?? "", createRng(1));
    expect(parseCredit(reply, ["E1", "E2"], 2)).toEqual([
      { rollout: 1, id: "E1", verdict: "helped" },
      { rollout: 2, id: "E2", verdict: "hurt" },
    ]);
  });
});

describe("vague items are refused", () => {
  it("refuses generic caution and too-short items with the reason, keeps concrete ones", () => {
    expect(vagueReason("Be careful with percentages.")).toMatch(/too short/);
    expect(vagueReason("When the units differ, be careful with the conversion between them.")).toMatch(/generic caution/);
    expect(vagueReason("Double-check your work before you write the final answer down.")).toMatch(/generic caution/);
    expect(vagueReason("When converting units, use 60 minutes per hour, never 100.")).toBeNull();
    const { kept, refused } = refuseVague([
      { op: "ADD", name: "Care", text: "Be careful with numbers." },
      { op: "ADD", name: "Units", text: "When converting units, use 60 minutes per hour, never 100." },
      { op: "DELETE", id: "E1" },
    ]);
    expect(kept.map((o) => o.op)).toEqual(["ADD", "DELETE"]);
    expect(refused).toEqual([
      { op: { op: "ADD", name: "Care", text: "Be careful with numbers." }, reason: expect.stringMatching(/^vague: too short/) },
    ]);
  });
});
