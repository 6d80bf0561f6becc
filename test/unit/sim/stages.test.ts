import { describe, expect, it } from "vitest";
import type { Experience } from "../../../src/core/library";
import {
  advantagePrompt,
  batchUpdatePrompt,
  consolidatePrompt,
  groupUpdatePrompt,
  STAGE_HEADINGS,
  summaryPrompt,
  type ChatMessage,
} from "../../../src/core/prompts";
import { PITFALLS, GENERIC_VAGUE } from "../../../src/sim/pitfalls";
import { detectStage } from "../../../src/sim/stages";
import { complete, newModel } from "./helpers";

const pit = (id: string) => {
  const p = PITFALLS.find((x) => x.id === id);
  if (!p) throw new Error(id);
  return p;
};
const item = (id: string, name: string, text: string): Experience => ({ id, name, text, provenance: [] });
type Op = { op: string; id?: string; name?: string; text?: string; reason?: string };
const ops = (reply: string): Op[] => (JSON.parse(reply) as { operations: Op[] }).operations;

const model = newModel();
const ask = (messages: ChatMessage[], seed = 1): Promise<string> => complete(model, { messages, temperature: 0.7, seed });

const Q = "How many integers are there from 12 to 47, inclusive?";
const WRONG =
  "Let me solve this step by step.\nStep 1 (range count): taking the difference of the endpoints, 47 − 12 = 35 integers.\nSo the answer is \\boxed{35}.";
const RIGHT =
  "Working step by step:\nStep 1 (range count), applying [E2]: counting both endpoints, 47 − 12 + 1 = 36 integers.\nSo the answer is \\boxed{36}.";

describe("stage recognition", () => {
  it("recognises each heading", () => {
    for (const [stage, heading] of Object.entries(STAGE_HEADINGS)) expect(detectStage(`${heading}\nstuff`)).toBe(stage);
    expect(detectStage(Q)).toBeNull();
  });
});

describe("summary", () => {
  it("says where a wrong attempt went wrong and which experiences it used", async () => {
    const lib = [item("E1", "Care", "Be careful with numbers.")];
    const reply = await ask(summaryPrompt({ objective: "", question: Q, answer: "36", response: WRONG, reward: 0, library: lib }));
    expect(reply).toMatch(/^<summary>\n[\s\S]*\n<\/summary>$/);
    expect(reply).toContain("went wrong at the inclusive counting pitfall");
    expect(reply).toContain("reference answer is 36");
    expect(reply).toContain("Experiences applied: none. Experiences not applied: E1.");
  });

  it("credits a correct handling and the experience it followed", async () => {
    const lib = [item("E2", "Ends", pit("inclusive_count").experience.text)];
    const reply = await ask(summaryPrompt({ objective: "", question: Q, answer: "36", response: RIGHT, reward: 1, library: lib }));
    expect(reply).toContain("handled the inclusive counting pitfall correctly");
    expect(reply).toContain("Experiences applied: E2.");
  });

  it("names the experience that misled a wrong step", async () => {
    const wrongRule = pit("inclusive_count").misleading!;
    const lib = [item("E4", wrongRule.name, wrongRule.text)];
    const misled = WRONG.replace("Step 1 (range count):", "Step 1 (range count), applying [E4]:");
    const reply = await ask(summaryPrompt({ objective: "", question: Q, answer: "36", response: misled, reward: 0, library: lib }));
    expect(reply).toContain("went wrong at the inclusive counting pitfall");
    expect(reply).toContain("misled by experience E4");
    expect(reply).toContain("Experiences applied: E4.");
  });

  it("summarises an unrecognised attempt without inventing a pitfall", async () => {
    const reply = await ask(
      summaryPrompt({ objective: "", question: "AIME thing", answer: "204", response: "I guess.\n\\boxed{17}", reward: 0, library: [] }),
    );
    expect(reply).toMatch(/<summary>[\s\S]*17[\s\S]*<\/summary>/);
    expect(reply).not.toMatch(/pitfall/);
  });
});

const wrongSummary = "<x>Step 1 (range count): went wrong at the inclusive counting pitfall — it dropped an endpoint.";
const rightSummary = "Step 1 (range count): handled the inclusive counting pitfall correctly — it counted both endpoints.";

describe("group advantage", () => {
  it("writes an experience only when the group shows both handlings, within the format and caps", async () => {
    let specific = 0;
    let vague = 0;
    for (let seed = 0; seed < 60; seed++) {
      const reply = await ask(
        advantagePrompt({
          objective: "",
          question: Q,
          answer: "36",
          attempts: [
            { summary: wrongSummary, reward: 0 },
            { summary: rightSummary, reward: 1 },
            { summary: rightSummary, reward: 1 },
          ],
          maxExperiences: 1,
          maxWords: 32,
          library: [],
        }),
        seed,
      );
      expect(reply).toMatch(/^<analysis>[\s\S]+<\/analysis>\n<experiences>\n[\s\S]*<\/experiences>$/);
      const exps = [...reply.matchAll(/<experience name="([^"]+)">([^<]+)<\/experience>/g)];
      expect(exps).toHaveLength(1);
      const text = exps[0]?.[2] ?? "";
      expect(text.split(/\s+/).length).toBeLessThanOrEqual(32);
      const good = [pit("inclusive_count").experience, ...pit("inclusive_count").paraphrases].some((e) => e.text === text);
      if (good) specific++;
      else vague++;
    }
    expect(vague / 60).toBeGreaterThan(0.15);
    expect(vague / 60).toBeLessThan(0.45);
    expect(specific).toBeGreaterThan(30);
  });

  it("writes nothing when every attempt handled the pitfall the same way", async () => {
    const reply = await ask(
      advantagePrompt({
        objective: "",
        question: Q,
        answer: "36",
        attempts: [
          { summary: wrongSummary, reward: 0 },
          { summary: wrongSummary, reward: 0 },
        ],
        maxExperiences: 2,
        maxWords: 32,
        library: [],
      }),
    );
    expect(reply).toContain("<experiences>\n</experiences>");
  });

  it("respects at most N and the word cap", async () => {
    const unitWrong = "Step 1 (unit conversion): went wrong at the unit conversion pitfall.";
    const unitRight = "Step 1 (unit conversion): handled the unit conversion pitfall correctly.";
    const reply = await ask(
      advantagePrompt({
        objective: "",
        question: Q,
        answer: "1",
        attempts: [
          { summary: `${wrongSummary}\n${unitRight}`, reward: 0 },
          { summary: `${rightSummary}\n${unitWrong}`, reward: 0 },
        ],
        maxExperiences: 1,
        maxWords: 14,
        library: [],
      }),
    );
    const exps = [...reply.matchAll(/<experience name="[^"]+">([^<]+)<\/experience>/g)];
    expect(exps).toHaveLength(1);
    expect((exps[0]?.[1] ?? "").split(/\s+/).length).toBeLessThanOrEqual(14);
  });
});

describe("group update", () => {
  const good = pit("inclusive_count").experience;
  it("NONE when covered, UPDATE a vaguer item on the same pitfall, ADD new", async () => {
    const covered = ops(
      await ask(
        groupUpdatePrompt({
          objective: "",
          experiences: [good],
          library: [item("E3", "Range", pit("inclusive_count").paraphrases[1]?.text ?? "")],
          maxWords: 32,
        }),
      ),
    );
    expect(covered).toEqual([{ op: "NONE", reason: expect.stringContaining("E3") }]);

    const weaker = ops(
      await ask(
        groupUpdatePrompt({
          objective: "",
          experiences: [good],
          library: [item("E1", "Care", "Be careful with numbers."), item("E2", "Inclusive", "Be careful with inclusive counting.")],
          maxWords: 32,
        }),
      ),
    );
    expect(weaker).toEqual([{ op: "UPDATE", id: "E2", name: good.name, text: good.text }]);

    const added = ops(
      await ask(
        groupUpdatePrompt({
          objective: "",
          experiences: [good, pit("fence_posts").experience],
          library: [item("E9", "Units", pit("unit_conversion").experience.text)],
          maxWords: 32,
        }),
      ),
    );
    expect(added.map((o) => o.op)).toEqual(["ADD", "ADD"]);

    const vague = ops(
      await ask(
        groupUpdatePrompt({
          objective: "",
          experiences: [GENERIC_VAGUE[0] ?? good],
          library: [item("E1", "Care", "Be careful with numbers.")],
          maxWords: 32,
        }),
      ),
    );
    expect(vague[0]?.op).toBe("NONE");
  });

  it("corrects an item that gives the wrong rule, ahead of a topic-only one", async () => {
    const wrongRule = pit("inclusive_count").misleading!;
    const library = [item("E1", "Inclusive", "Be careful with inclusive counting."), item("E2", wrongRule.name, wrongRule.text)];
    const plan = ops(await ask(groupUpdatePrompt({ objective: "", experiences: [good], library, maxWords: 32 })));
    expect(plan).toEqual([{ op: "UPDATE", id: "E2", name: good.name, text: good.text }]);
  });
});

describe("batch update", () => {
  it("merges UPDATEs, lets DELETE win, merges ADDs on one pitfall, drops NONE, respects the cap", async () => {
    const library = [
      item("E1", "Care", "Be careful with numbers."),
      item("E2", "Inclusive", "Be careful with inclusive counting."),
      item("E3", "Units", "Pay attention to units."),
    ];
    const u = pit("unit_conversion");
    const f = pit("fence_posts");
    const reply = await ask(
      batchUpdatePrompt({
        objective: "",
        library,
        maxExperiences: 3,
        maxWords: 32,
        proposals: [
          { group: 1, op: "UPDATE", id: "E3", name: u.experience.name, text: u.experience.text },
          { group: 2, op: "UPDATE", id: "E3", name: u.paraphrases[0]?.name, text: u.paraphrases[0]?.text },
          { group: 3, op: "UPDATE", id: "E2", name: "x", text: pit("inclusive_count").experience.text },
          { group: 3, op: "DELETE", id: "E2", reason: "wrong" },
          { group: 4, op: "ADD", name: f.experience.name, text: f.experience.text },
          { group: 5, op: "ADD", name: f.paraphrases[0]?.name, text: f.paraphrases[0]?.text },
          { group: 6, op: "NONE", reason: "covered" },
          { group: 7, op: "ADD", name: "Double-check", text: "Double-check your work." },
        ],
      }),
    );
    const plan = ops(reply);
    expect(plan.filter((o) => o.op === "UPDATE" && o.id === "E3")).toHaveLength(1);
    expect(plan.some((o) => o.op === "UPDATE" && o.id === "E2")).toBe(false);
    expect(plan).toContainEqual({ op: "DELETE", id: "E2", reason: "wrong" });
    expect(plan.filter((o) => o.op === "ADD" && o.text && /post|interval/i.test(o.text))).toHaveLength(1);
    expect(plan.some((o) => o.op === "NONE")).toBe(false);
    const deletes = plan.filter((o) => o.op === "DELETE").length;
    const adds = plan.filter((o) => o.op === "ADD").length;
    expect(library.length - deletes + adds).toBeLessThanOrEqual(3);
  });
});

describe("consolidate", () => {
  it("deletes vague items first, merges duplicates and fits the cap", async () => {
    const library = [
      item("E1", "Care", "Be careful with numbers."),
      item("E2", "Ends", pit("inclusive_count").experience.text),
      item("E3", "Range", pit("inclusive_count").paraphrases[1]?.text ?? ""),
      item("E4", "Units", pit("unit_conversion").experience.text),
      item("E5", "Posts", pit("fence_posts").experience.text),
    ];
    const plan = ops(await ask(consolidatePrompt({ objective: "", library, maxExperiences: 2, maxWords: 32 })));
    const deleted = plan.filter((o) => o.op === "DELETE").map((o) => o.id);
    expect(deleted).toContain("E1");
    expect(deleted).toContain("E3");
    expect(library.length - deleted.length).toBeLessThanOrEqual(2);
  });

  it("deletes an item that gives the wrong rule, saying so", async () => {
    const wrongRule = pit("percent_base").misleading!;
    const library = [item("E1", wrongRule.name, wrongRule.text), item("E2", "Ends", pit("inclusive_count").experience.text)];
    const plan = ops(await ask(consolidatePrompt({ objective: "", library, maxExperiences: 5, maxWords: 32 })));
    expect(plan).toEqual([{ op: "DELETE", id: "E1", reason: expect.stringContaining("wrong advice") }]);
  });

  it("shortens long items with UPDATE and says NONE when nothing is to do", async () => {
    const long = [item("E1", "Ends", pit("inclusive_count").experience.text)];
    const plan = ops(await ask(consolidatePrompt({ objective: "", library: long, maxExperiences: 5, maxWords: 15 })));
    expect(plan).toHaveLength(1);
    expect(plan[0]?.op).toBe("UPDATE");
    expect((plan[0]?.text ?? "").split(/\s+/).length).toBeLessThanOrEqual(15);
    const fine = ops(await ask(consolidatePrompt({ objective: "", library: long, maxExperiences: 5, maxWords: 32 })));
    expect(fine).toEqual([{ op: "NONE", reason: expect.any(String) }]);
  });
});

describe("judge", () => {
  it("grades the final answer against the reference", async () => {
    const prompt = (response: string): ChatMessage[] => [
      {
        role: "user",
        content: `${STAGE_HEADINGS.judge}\nProblem:\n${Q}\nReference answer: 36\n<response>\n${response}\n</response>\nReply with JSON {"score": 0|1, "critique": "..."}.`,
      },
    ];
    expect(JSON.parse(await ask(prompt(RIGHT)))).toEqual({ score: 1, critique: expect.any(String) });
    expect(JSON.parse(await ask(prompt(WRONG)))).toEqual({ score: 0, critique: expect.stringContaining("35") });
  });
});
