/**
 * The learning loop of docs/architecture.md §2 driven end to end against the simulated model with the real prompt
 * builders: the library it learns must raise held-out accuracy. (A minimal stand-in for the trainer,
 * only to check that the simulated model's stages fit together.)
 */
import { describe, expect, it } from "vitest";
import { nextItemId, renderLibrary, type Experience } from "../../../src/core/library";
import { advantagePrompt, batchUpdatePrompt, groupUpdatePrompt, summaryPrompt, type ChatMessage } from "../../../src/core/prompts";
import { measureAccuracy } from "../../../src/sim/calibration";
import { simDataset } from "../../../src/sim/dataset";
import { extractFinalAnswer, sameAnswer } from "../../../src/sim/solver";
import { complete, newModel } from "./helpers";

type Op = { op: string; id?: string; name?: string; text?: string; reason?: string };

function apply(items: Experience[], ops: Op[]): Experience[] {
  let out = [...items];
  for (const o of ops) {
    if (o.op === "DELETE") out = out.filter((i) => i.id !== o.id);
    if (o.op === "UPDATE") out = out.map((i) => (i.id === o.id ? { ...i, name: o.name ?? i.name, text: o.text ?? i.text } : i));
    if (o.op === "ADD" && o.text) out.push({ id: nextItemId(out, 0), name: o.name ?? "Lesson", text: o.text, provenance: [] });
  }
  return out;
}

describe("learning loop against the simulated model", () => {
  it("learns a library that lifts held-out accuracy", async () => {
    const model = newModel();
    const ask = (messages: ChatMessage[], seed: number, extra: object = {}) =>
      complete(model, { messages, seed, temperature: 0.7, ...extra });
    const train = simDataset("sim-train").slice(0, 60);
    let library: Experience[] = [];
    let highest = 0;
    for (let epoch = 0; epoch < 2; epoch++) {
      for (let start = 0; start < train.length; start += 20) {
        const batch = train.slice(start, start + 20);
        const proposals: { group: number; op: string; id?: string; name?: string; text?: string; reason?: string }[] = [];
        for (const [g, sample] of batch.entries()) {
          const system = renderLibrary(library);
          const rollouts: { text: string; reward: number }[] = [];
          for (let r = 0; r < 5; r++) {
            const messages: ChatMessage[] = [
              ...(system ? [{ role: "system" as const, content: system }] : []),
              { role: "user", content: sample.question },
            ];
            const text = await ask(messages, epoch * 1000 + r);
            rollouts.push({ text, reward: sameAnswer(extractFinalAnswer(text) ?? "", sample.answer) ? 1 : 0 });
          }
          const mean = rollouts.reduce((s, x) => s + x.reward, 0) / rollouts.length;
          if (mean === 0 || mean === 1) continue;
          const summaries: { summary: string; reward: number }[] = [];
          for (const [i, r] of rollouts.entries()) {
            const s = await ask(
              summaryPrompt({
                objective: "",
                question: sample.question,
                answer: sample.answer,
                response: r.text,
                reward: r.reward,
                library,
              }),
              i,
            );
            summaries.push({ summary: /<summary>\n?([\s\S]*?)\n?<\/summary>/.exec(s)?.[1] ?? s, reward: r.reward });
          }
          const adv = await ask(
            advantagePrompt({
              objective: "",
              question: sample.question,
              answer: sample.answer,
              attempts: summaries,
              maxExperiences: 1,
              maxWords: 32,
              library,
            }),
            epoch * 100 + g,
          );
          const experiences = [...adv.matchAll(/<experience name="([^"]*)">([^<]*)<\/experience>/g)].map((m) => ({
            name: m[1] ?? "",
            text: m[2] ?? "",
          }));
          if (experiences.length === 0) continue;
          const gu = JSON.parse(await ask(groupUpdatePrompt({ objective: "", experiences, library, maxWords: 32 }), g)) as {
            operations: Op[];
          };
          for (const o of gu.operations) proposals.push({ group: g + 1, ...o });
        }
        if (proposals.length === 0) continue;
        const plan = JSON.parse(
          await ask(batchUpdatePrompt({ objective: "", proposals, library, maxExperiences: 8, maxWords: 32 }), start),
        ) as { operations: Op[] };
        library = apply(library, plan.operations);
        highest = Math.max(highest, ...library.map((i) => Number(i.id.slice(1))));
        expect(library.length).toBeLessThanOrEqual(8);
      }
    }
    const test = simDataset("sim-test").slice(0, 150);
    const before = await measureAccuracy(test, [], 0.7);
    const after = await measureAccuracy(test, library, 0.7);
    if (process.env.SIM_LOOP_DEBUG) console.log(renderLibrary(library), { before, after });
    expect(library.length).toBeGreaterThan(2);
    expect(after - before).toBeGreaterThan(0.2);
  }, 60_000);
});
