/**
 * `npm run bench:ablation`: the paper's ablation table on the simulated model (issue 13, docs/learning.md).
 * Each arm trains a library on sim-train (3 epochs, one batch of 100, caps 40 × 32 words, temperature
 * 0.7) with the real prompt builders, parsers, validation, vague-item refusal and credit of src/core, then
 * is evaluated by Mean@4 on sim-test (300 held-out questions, temperature 0.7), for several seeds. The
 * stages run in-process against the simulated model, in the order of src/training/group.ts and batch.ts
 * (no D1, no Workflows: the durable shell adds nothing to what is learned). Prints one table: Mean@4 with
 * its 95% bootstrap interval over questions (pooled over seeds), library size, precision and tokens.
 */
import { deriveSeed, seededShuffle } from "../src/core/batching";
import { applyCredit, deletionCandidates, parseCredit, tallyCredit, type CreditTally } from "../src/core/credit";
import type { Experience } from "../src/core/library";
import { bootstrapCI, hasSignal } from "../src/core/metrics";
import { applyPlan, capViolations, validatePlan, type Operation } from "../src/core/operations";
import { parseExperiences, parseOperations, parseSummary } from "../src/core/parse";
import {
  advantagePrompt,
  batchUpdatePrompt,
  consolidatePrompt,
  directPrompt,
  groupUpdatePrompt,
  summaryPrompt,
  type ChatMessage,
} from "../src/core/prompts";
import type { Result } from "../src/core/result";
import { rolloutMessages } from "../src/core/rollout";
import { refuseVague } from "../src/core/specificity";
import { libraryQuality } from "../src/sim/calibration";
import { simDataset } from "../src/sim/dataset";
import { createSimulatedModel } from "../src/sim/index";
import { extractFinalAnswer, sameAnswer } from "../src/sim/solver";

const SEEDS = (process.env.ABLATION_SEEDS ?? "1,2,3").split(",").map(Number);
const EPOCHS = 3;
const K = 4;
const TEMPERATURE = 0.7;
const CAPS = { maxExperiences: 40, maxWords: 32 };
const STALE_AFTER_BATCHES = 3;
const AGENT = {
  systemPrompt: "Solve the word problem step by step and give the final answer in \\boxed{}.",
  injectPosition: "after" as const,
};

type Arm = {
  name: string;
  groupSize: number;
  groundTruth: boolean;
  /** Vague-item refusal and credit with deletion (issue 13); off reproduces the method before it. */
  credit: boolean;
  direct?: boolean;
  none?: boolean;
};

const ARMS: Arm[] = [
  { name: "full method", groupSize: 5, groundTruth: true, credit: true },
  { name: "full method before issue 13 (no refusal, no credit)", groupSize: 5, groundTruth: true, credit: false },
  { name: "without ground truth", groupSize: 5, groundTruth: false, credit: true },
  { name: "without groups (G = 1)", groupSize: 1, groundTruth: true, credit: true },
  { name: "direct experiences, no rollouts", groupSize: 0, groundTruth: true, credit: true, direct: true },
  { name: "no library", groupSize: 0, groundTruth: true, credit: true, none: true },
];

const model = createSimulatedModel();

async function chat(messages: ChatMessage[], seed: number, temperature: number): Promise<string> {
  const res = await model.fetch(
    new Request("http://sim/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "sim-1", messages, temperature, seed }),
    }),
  );
  const body = (await res.json()) as { choices: { message: { content: string | null } }[] };
  return body.choices[0]?.message.content ?? "";
}

/** One stage call, re-asked (new seed) up to twice when its reply cannot be used, as llmCall does. */
async function stage<T>(messages: ChatMessage[], seed: number, parse: (text: string) => Result<T>): Promise<Result<T>> {
  let last: Result<T> = { ok: false, error: "not asked" };
  for (let attempt = 0; attempt < 3; attempt++) {
    last = parse(await chat(messages, deriveSeed(seed, attempt), 0));
    if (last.ok) return last;
  }
  return last;
}

type Counters = { kept: number; skipped: number; dropped: number; refused: number };

async function trainGroups(arm: Arm, seed: number, counters: Counters): Promise<Experience[]> {
  const train = simDataset("sim-train");
  let library: Experience[] = [];
  let highestId = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const order = seededShuffle(train.length, seed, epoch);
    const proposals: (Operation & { group: number | null })[] = [];
    const credit: CreditTally = {};
    for (const idx of order) {
      const sample = train[idx];
      if (!sample) continue;
      const messages = rolloutMessages(AGENT, sample.question, library);
      const rollouts = await Promise.all(
        Array.from({ length: arm.groupSize }, async (_, k) => {
          const text = await chat(messages, deriveSeed(seed, "rollout", epoch, idx, k), TEMPERATURE);
          return { text, reward: sameAnswer(extractFinalAnswer(text) ?? "", sample.answer) ? 1 : 0 };
        }),
      );
      // With G = 1 no group can show a contrast, so the filter would drop everything: every group is kept.
      if (arm.groundTruth && arm.groupSize > 1 && !hasSignal(rollouts.map((r) => r.reward))) {
        counters.skipped++;
        continue;
      }
      const answer = arm.groundTruth ? sample.answer : null;
      const summaries: string[] = [];
      for (const [k, r] of rollouts.entries()) {
        const reply = await stage(
          summaryPrompt({
            objective: "",
            question: sample.question,
            answer,
            response: r.text,
            reward: arm.groundTruth ? r.reward : null,
            library,
          }),
          deriveSeed(seed, "summary", epoch, idx, k),
          parseSummary,
        );
        if (reply.ok) summaries.push(reply.value);
      }
      if (summaries.length !== rollouts.length) {
        counters.dropped++;
        continue;
      }
      const adv = await stage(
        advantagePrompt({
          objective: "",
          question: sample.question,
          answer,
          attempts: rollouts.map((r, k) => ({ summary: summaries[k] ?? "", reward: arm.groundTruth ? r.reward : null })),
          maxExperiences: 1,
          maxWords: CAPS.maxWords,
          library: arm.credit ? library : library.map(({ stats: _s, ...rest }) => rest),
        }),
        deriveSeed(seed, "advantage", epoch, idx),
        (text) => {
          const parsed = parseExperiences(text, { max: 1, maxWords: CAPS.maxWords });
          return parsed.ok ? { ok: true as const, value: { text, experiences: parsed.value } } : parsed;
        },
      );
      if (!adv.ok) {
        counters.dropped++;
        continue;
      }
      counters.kept++;
      if (arm.credit)
        tallyCredit(
          parseCredit(
            adv.value.text,
            library.map((i) => i.id),
            rollouts.length,
          ),
          credit,
        );
      if (adv.value.experiences.length === 0) continue;
      const update = await stage(
        groupUpdatePrompt({ objective: "", experiences: adv.value.experiences, library, maxWords: CAPS.maxWords }),
        deriveSeed(seed, "group-update", epoch, idx),
        (text) => {
          const ops = parseOperations(text);
          return ops.ok ? validatePlan(ops.value, library, { ...CAPS, maxExperiences: Number.MAX_SAFE_INTEGER }) : ops;
        },
      );
      if (!update.ok) continue;
      const checked = arm.credit ? refuseVague(update.value) : { kept: update.value, refused: [] };
      counters.refused += checked.refused.length;
      proposals.push(...checked.kept.filter((op) => op.op !== "NONE").map((op) => ({ ...op, group: idx })));
    }
    if (arm.credit) {
      library = applyCredit(library, credit);
      for (const c of deletionCandidates(library, STALE_AFTER_BATCHES))
        proposals.push({ group: null, op: "DELETE", id: c.id, reason: c.reason });
    }
    if (proposals.length === 0) continue;
    ({ library, highestId } = await planAndApply(arm, seed, `e${epoch}`, library, highestId, proposals, counters));
  }
  return library;
}

async function planAndApply(
  arm: Arm,
  seed: number,
  key: string,
  library: Experience[],
  highestId: number,
  proposals: (Operation & { group: number | null })[],
  counters: Counters,
): Promise<{ library: Experience[]; highestId: number }> {
  const plan = (messages: ChatMessage[], items: Experience[], k: string) =>
    stage(messages, deriveSeed(seed, k), (text) => {
      const ops = parseOperations(text);
      return ops.ok ? validatePlan(ops.value, items, { ...CAPS, maxExperiences: Number.MAX_SAFE_INTEGER }) : ops;
    });
  const planned = await plan(batchUpdatePrompt({ objective: "", proposals, library, ...CAPS }), library, `${key}/batch-update`);
  if (!planned.ok) return { library, highestId };
  const checked = arm.credit ? refuseVague(planned.value) : { kept: planned.value, refused: [] };
  counters.refused += checked.refused.length;
  let next = applyPlan(library, checked.kept, { runId: null, epoch: null, batch: null, highestId });
  for (let round = 1; capViolations(next.items, CAPS).length > 0 && round <= 2; round++) {
    const more = await plan(consolidatePrompt({ objective: "", library: next.items, ...CAPS }), next.items, `${key}/consolidate-${round}`);
    if (!more.ok) break;
    next = applyPlan(next.items, arm.credit ? refuseVague(more.value).kept : more.value, {
      runId: null,
      epoch: null,
      batch: null,
      highestId: next.highestId,
    });
  }
  return { library: next.items, highestId: next.highestId };
}

async function trainDirect(seed: number, counters: Counters): Promise<Experience[]> {
  const samples = simDataset("sim-train").map((s) => ({ question: s.question, answer: s.answer }));
  const reply = await stage(
    directPrompt({ objective: "", samples, maxExperiences: 5, maxWords: CAPS.maxWords }),
    deriveSeed(seed, "direct"),
    (text) => parseExperiences(text, { max: 5, maxWords: CAPS.maxWords }),
  );
  if (!reply.ok) return [];
  const { kept, refused } = refuseVague(reply.value.map((e) => ({ op: "ADD" as const, ...e })));
  counters.refused += refused.length;
  return applyPlan([], kept, { runId: null, epoch: null, batch: null, highestId: 0 }).items;
}

/** Mean@K per question of sim-test with the library injected as served. */
async function evaluate(library: Experience[], seed: number): Promise<number[]> {
  const test = simDataset("sim-test");
  return Promise.all(
    test.map(async (q, i) => {
      const messages = rolloutMessages(AGENT, q.question, library);
      let correct = 0;
      for (let k = 0; k < K; k++) {
        const text = await chat(messages, deriveSeed(seed, "eval", i, k), TEMPERATURE);
        if (sameAnswer(extractFinalAnswer(text) ?? "", q.answer)) correct++;
      }
      return correct / K;
    }),
  );
}

const pct = (x: number) => `${(x * 100).toFixed(1)}`;

async function main(): Promise<void> {
  console.log(
    `bench:ablation — sim-train (100) → sim-test (300), ${EPOCHS} epochs, Mean@${K} at temperature ${TEMPERATURE}, seeds ${SEEDS.join(", ")}`,
  );
  const rows: string[][] = [];
  for (const arm of ARMS) {
    const started = performance.now();
    const perQuestion = new Array<number>(simDataset("sim-test").length).fill(0);
    const seedMeans: number[] = [];
    const quality = { items: 0, fixing: 0, tokens: 0 };
    const counters: Counters = { kept: 0, skipped: 0, dropped: 0, refused: 0 };
    for (const seed of SEEDS) {
      const library = arm.none ? [] : arm.direct ? await trainDirect(seed, counters) : await trainGroups(arm, seed, counters);
      const scores = await evaluate(library, seed);
      scores.forEach((s, i) => {
        perQuestion[i] = (perQuestion[i] ?? 0) + s / SEEDS.length;
      });
      seedMeans.push(scores.reduce((a, b) => a + b, 0) / scores.length);
      const q = libraryQuality(library);
      quality.items += q.total / SEEDS.length;
      quality.fixing += q.fixing / SEEDS.length;
      quality.tokens += q.tokens / SEEDS.length;
    }
    const mean = perQuestion.reduce((a, b) => a + b, 0) / perQuestion.length;
    const ci = bootstrapCI(perQuestion, { seed: 1 });
    rows.push([
      arm.name,
      `${pct(mean)} [${pct(ci.low)}, ${pct(ci.high)}]`,
      seedMeans.map(pct).join(" / "),
      quality.items.toFixed(1),
      quality.items === 0 ? "—" : `${pct(quality.fixing / quality.items)}%`,
      quality.tokens.toFixed(0),
      arm.none || arm.direct ? "—" : `${counters.kept}/${counters.skipped}/${counters.dropped}/${counters.refused}`,
      `${((performance.now() - started) / 1000).toFixed(0)} s`,
    ]);
    console.error(`  ${arm.name}: done`);
  }
  const head = ["arm", `Mean@${K} % [95% CI]`, "per seed", "items", "precision", "tokens", "kept/skipped/dropped/refused", "time"];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
