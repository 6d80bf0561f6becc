import { deriveSeed } from "../core/batching";
import { parseCredit, type CreditEntry } from "../core/credit";
import type { Experience } from "../core/library";
import { refuseVague, type RefusedOperation } from "../core/specificity";
import { groupMean, hasSignal } from "../core/metrics";
import { validatePlan, type Operation } from "../core/operations";
import { parseExperiences, parseOperations, parseSummary } from "../core/parse";
import { advantagePrompt, groupUpdatePrompt, summaryPrompt, type ChatMessage } from "../core/prompts";
import { toolRollout } from "../calls/toolRollout";
import { renderTrajectory, type TrajectoryMessage } from "../tools/messages";
import { ok, type Result } from "../core/result";
import { rolloutMessages } from "../core/rollout";
import { sampleAt } from "../db/datasets";
import { groupRollouts, insertRollouts, recordGroup, setRolloutSummaries, type RolloutRow } from "../db/training";
import type { RunContext } from "./context";
import { callLlm, preloadCalls } from "../calls/llmCall";
import { scoreResponse } from "../calls/scoring";

/** Identifies one rollout group: a sample of a batch of an epoch, against the pre-batch library version. */
export type GroupRef = { epoch: number; batch: number; sampleIdx: number; libraryVersion: number };

const keyOf = (g: GroupRef, rest: string) => `e${g.epoch}/s${g.sampleIdx}/${rest}`;

type Sample = { question: string; answer: string };

export type GroupOutcome = "kept" | "skipped" | "dropped";

/**
 * One rollout group from start to stored outcome (stages 1–6 of docs/architecture.md §2), idempotent: every LLM call
 * is read back from D1 when it was already paid (one query for all of the group's calls), rollouts and
 * the group row are written under their keys. A reply that stays unusable after its retries drops the
 * group with the reason; upstream failures throw, for the Workflow to retry the step.
 */
export async function runGroup(base: RunContext, g: GroupRef, library: readonly Experience[]): Promise<GroupOutcome> {
  const ctx = { ...base, call: await preloadCalls(base.call, keyOf(g, "")) };
  const sample = await sampleAt(ctx.d, ctx.run.datasetId, g.sampleIdx);
  if (!sample) throw new Error(`sample ${g.sampleIdx} of the run's data set is missing`);
  // Rollout rows are written only after their calls are stored: no stored call, no rows to look for.
  const rows = await rolloutAndScore(ctx, g, library, sample, ctx.call.preloaded?.calls.size !== 0);
  const rewards = rows.map((r) => r.reward);
  // Without ground truth every group is kept: the critique compares the rollouts with each other.
  if (ctx.params.groundTruth && (await skipIfNoSignal(ctx, g, rewards))) return "skipped";
  const summaries = await summarise(ctx, g, library, sample, rows);
  const reflection = summaries.ok ? await reflect(ctx, g, library, sample, rows, summaries.value) : summaries;
  if (!reflection.ok) {
    await recordDropped(ctx, g, rewards, reflection.error);
    return "dropped";
  }
  await recordKept(ctx, g, rewards, reflection.value);
  return "kept";
}

/** Stages 1–2: G rollouts with the library injected, each scored by the verifier. Returns the stored rows. */
export async function rolloutAndScore(
  ctx: RunContext,
  g: GroupRef,
  library: readonly Experience[],
  sample: Sample,
  mayExist: boolean,
): Promise<RolloutRow[]> {
  const existing = mayExist ? await groupRollouts(ctx.d, ctx.call.texts, ctx.run.id, g.epoch, g.sampleIdx) : [];
  if (existing.length === ctx.params.groupSize) return existing;

  const messages = rolloutMessages(ctx.agent, sample.question, library);
  const rows = await Promise.all(
    Array.from({ length: ctx.params.groupSize }, async (_, k) => {
      const seed = deriveSeed(ctx.params.seed, "rollout", g.epoch, g.sampleIdx, k);
      const { response, trajectory, toolCalls } = ctx.tools
        ? await toolRollout(ctx.call, ctx.tools, {
            key: keyOf(g, `r${k}`),
            messages,
            maxTurns: ctx.params.maxTurns,
            temperature: ctx.params.temperature,
            seed,
          })
        : { response: await plainRollout(ctx, keyOf(g, `r${k}/rollout`), messages, seed), trajectory: null, toolCalls: 0 };
      const score = await scoreResponse(ctx, { key: keyOf(g, `r${k}`), question: sample.question, answer: sample.answer, response });
      return {
        runId: ctx.run.id,
        epoch: g.epoch,
        batch: g.batch,
        sampleIdx: g.sampleIdx,
        rolloutIdx: k,
        promptVersion: g.libraryVersion,
        response,
        reward: score.reward,
        critique: score.critique ?? null,
        messages: trajectory,
        toolCalls,
      };
    }),
  );
  await insertRollouts(ctx.d, ctx.call.texts, rows);
  // A concurrent or partial earlier attempt may have stored rows first: what is stored is what counts.
  return groupRollouts(ctx.d, ctx.call.texts, ctx.run.id, g.epoch, g.sampleIdx);
}

async function plainRollout(ctx: RunContext, key: string, messages: ChatMessage[], seed: number): Promise<string> {
  const reply = await callLlm(ctx.call, {
    key,
    stage: "rollout",
    messages,
    temperature: ctx.params.temperature,
    seed,
    parse: (text) => ok(text),
  });
  return reply.ok ? reply.value : "";
}

/** Stage 3: a group whose rewards are all equal carries no signal and is recorded as skipped. */
export async function skipIfNoSignal(ctx: RunContext, g: GroupRef, rewards: number[]): Promise<boolean> {
  if (hasSignal(rewards)) return false;
  await recordGroup(ctx.d, ctx.call.texts, {
    runId: ctx.run.id,
    epoch: g.epoch,
    batch: g.batch,
    sampleIdx: g.sampleIdx,
    status: "skipped",
    meanReward: groupMean(rewards),
    passed: rewards.some((r) => r >= 1),
    reason: "all rollouts scored the same",
  });
  return true;
}

/** Stage 4: one summary per rollout of a kept group. */
export async function summarise(
  ctx: RunContext,
  g: GroupRef,
  library: readonly Experience[],
  sample: Sample,
  rows: readonly RolloutRow[],
): Promise<Result<string[]>> {
  const summaries = await Promise.all(
    rows.map(async (row) => {
      const reply = await callLlm(ctx.call, {
        key: keyOf(g, `r${row.rolloutIdx}/summary`),
        stage: "summary",
        messages: summaryPrompt({
          objective: ctx.agent.objective,
          question: sample.question,
          answer: ctx.params.groundTruth ? sample.answer : null,
          response: row.messages ? renderTrajectory(row.messages as TrajectoryMessage[], ctx.params.reflectionToolChars) : row.response,
          reward: ctx.params.groundTruth ? row.reward : null,
          critique: ctx.params.groundTruth ? row.critique : null,
          library,
        }),
        temperature: 0,
        seed: deriveSeed(ctx.params.seed, "summary", g.epoch, g.sampleIdx, row.rolloutIdx),
        parse: parseSummary,
      });
      return reply;
    }),
  );
  const changed = rows.flatMap((row, i) => {
    const reply = summaries[i];
    return reply?.ok && row.summary !== reply.value ? [{ rolloutIdx: row.rolloutIdx, summary: reply.value }] : [];
  });
  await setRolloutSummaries(ctx.d, ctx.call.texts, { runId: ctx.run.id, epoch: g.epoch, sampleIdx: g.sampleIdx }, changed);
  const failed = summaries.find((s) => !s.ok);
  if (failed && !failed.ok) return { ok: false, error: `summary: ${failed.error}` };
  return ok(summaries.map((s) => (s.ok ? s.value : "")));
}

export type Reflection = {
  advantage: string;
  experiences: { name: string; text: string }[];
  operations: Operation[];
  /** Operations refused as vague, with their reasons (docs/learning.md, "Vague items are refused"). */
  refused: RefusedOperation[];
  credit: CreditEntry[];
};

/** Stages 5–6: the group's semantic advantage as experiences, then operations against the pre-batch library. */
export async function reflect(
  ctx: RunContext,
  g: GroupRef,
  library: readonly Experience[],
  sample: Sample,
  rows: readonly RolloutRow[],
  summaries: string[],
): Promise<Result<Reflection>> {
  const advantage = await callLlm(ctx.call, {
    key: keyOf(g, "advantage"),
    stage: "advantage",
    messages: advantagePrompt({
      objective: ctx.agent.objective,
      question: sample.question,
      answer: ctx.params.groundTruth ? sample.answer : null,
      attempts: rows.map((r, i) => ({ summary: summaries[i] ?? "", reward: ctx.params.groundTruth ? r.reward : null })),
      maxExperiences: ctx.params.experiencesPerGroup,
      maxWords: ctx.params.maxWordsPerExperience,
      library,
    }),
    temperature: 0,
    seed: deriveSeed(ctx.params.seed, "advantage", g.epoch, g.sampleIdx),
    parse: (text) => {
      const parsed = parseExperiences(text, { max: ctx.params.experiencesPerGroup, maxWords: ctx.params.maxWordsPerExperience });
      return parsed.ok ? ok({ text, experiences: parsed.value }) : parsed;
    },
  });
  if (!advantage.ok) return { ok: false, error: `group advantage: ${advantage.error}` };
  const { experiences } = advantage.value;
  const credit = parseCredit(
    advantage.value.text,
    library.map((item) => item.id),
    rows.length,
  );
  if (experiences.length === 0) return ok({ advantage: advantage.value.text, experiences, operations: [], refused: [], credit });

  const caps = { maxExperiences: ctx.params.maxExperiences, maxWords: ctx.params.maxWordsPerExperience };
  const update = await callLlm(ctx.call, {
    key: keyOf(g, "group-update"),
    stage: "group_update",
    messages: groupUpdatePrompt({ objective: ctx.agent.objective, experiences, library, maxWords: ctx.params.maxWordsPerExperience }),
    temperature: 0,
    seed: deriveSeed(ctx.params.seed, "group-update", g.epoch, g.sampleIdx),
    parse: (text) => {
      const ops = parseOperations(text);
      return ops.ok ? validatePlan(ops.value, [...library], { ...caps, maxExperiences: Number.MAX_SAFE_INTEGER }) : ops;
    },
  });
  if (!update.ok) return { ok: false, error: `group update: ${update.error}` };
  const { kept, refused } = refuseVague(update.value);
  return ok({ advantage: advantage.value.text, experiences, operations: kept, refused, credit });
}

export async function recordKept(ctx: RunContext, g: GroupRef, rewards: number[], reflection: Reflection): Promise<void> {
  await recordGroup(ctx.d, ctx.call.texts, {
    runId: ctx.run.id,
    epoch: g.epoch,
    batch: g.batch,
    sampleIdx: g.sampleIdx,
    status: "kept",
    meanReward: groupMean(rewards),
    passed: rewards.some((r) => r >= 1),
    advantage: reflection.advantage,
    experiences: reflection.experiences,
    operations: reflection.operations,
    refused: reflection.refused,
    credit: reflection.credit,
  });
}

export async function recordDropped(ctx: RunContext, g: GroupRef, rewards: number[], reason: string): Promise<void> {
  await recordGroup(ctx.d, ctx.call.texts, {
    runId: ctx.run.id,
    epoch: g.epoch,
    batch: g.batch,
    sampleIdx: g.sampleIdx,
    status: "dropped",
    meanReward: groupMean(rewards),
    passed: rewards.some((r) => r >= 1),
    reason,
  });
}
