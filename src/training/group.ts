import { deriveSeed } from "../core/batching";
import { parseCredit, type CreditEntry } from "../core/credit";
import type { Experience } from "../core/library";
import { refuseVague, type RefusedOperation } from "../core/specificity";
import { groupMean, hasSignal } from "../core/metrics";
import { validatePlan, type Operation } from "../core/operations";
import { parseExperiences, parseOperations, parseSummary } from "../core/parse";
import { advantagePrompt, groupUpdatePrompt, summaryPrompt } from "../core/prompts";
import { toolRollout } from "../calls/toolRollout";
import { renderTrajectory, type TrajectoryMessage } from "../tools/messages";
import { ok, type Result } from "../core/result";
import { rolloutMessages } from "../core/rollout";
import type { SampleRecord } from "../db/datasets";
import type { BatchItem } from "drizzle-orm/batch";
import { storeCallStatements, type NewLlmCall } from "../db/llmCalls";
import {
  groupRollouts,
  recordGroupStatements,
  rolloutStatements,
  rolloutSummaryStatements,
  type NewGroup,
  type RolloutRow,
} from "../db/training";
import { writeQueue } from "../db/writeQueue";
import type { RunContext } from "./context";
import { callLlm, type CallContext } from "../calls/llmCall";
import { scoreResponse, scoreWithoutCall } from "../calls/scoring";

/** Identifies one rollout group: a sample of a batch of an epoch, against the pre-batch library version. */
export type GroupRef = { epoch: number; batch: number; sampleIdx: number; libraryVersion: number };

const keyOf = (g: GroupRef, rest: string) => `e${g.epoch}/s${g.sampleIdx}/${rest}`;
/** The prefix of every call key of a group: its stored calls are read in one query (CallContext.preloaded). */
export const groupKeyPrefix = (g: GroupRef) => keyOf(g, "");

/**
 * What a group step reads before its first call (src/training/lane.ts reads it in one round trip): the
 * call context with the group's stored calls preloaded, the sample, and the rollouts already stored.
 */
export type GroupStart = { call: CallContext; sample: SampleRecord; rollouts: RolloutRow[] };

type Sample = { question: string; answer: string };

export type GroupOutcome = "kept" | "skipped" | "dropped";

/**
 * One rollout group from start to stored outcome (stages 1–6 of docs/architecture.md §2), idempotent: every LLM call
 * is read back from D1 when it was already paid (`start.call` holds the group's stored calls), rollouts
 * and the group row are written under their keys. Each paid reply is written in one D1 batch with what
 * it produced (a rollout row, a summary, the group's outcome); these writes are queued and committed in
 * order while the group carries on (db/writeQueue.ts, docs/architecture.md §4), and the group returns once
 * they are committed. A reply that stays unusable after its retries drops the group with the reason;
 * upstream failures throw, for the Workflow to retry the step.
 */
export async function runGroup(base: RunContext, g: GroupRef, library: readonly Experience[], start: GroupStart): Promise<GroupOutcome> {
  const writes = writeQueue(base.d);
  // Each paid reply's write is queued and the group carries on; the queue commits them in order, each
  // once its long texts are in R2.
  const store = (call: NewLlmCall, also: () => Promise<BatchItem<"sqlite">[]>) => {
    void writes.add((async () => storeCallStatements(base.d, start.call.texts, call, await also()))());
    return Promise.resolve();
  };
  const ctx: RunContext = { ...base, writes, call: { ...start.call, store } };
  try {
    const outcome = await stages(ctx, g, library, start);
    await writes.settle();
    return outcome;
  } catch (error) {
    // Replies paid before the failure are still stored, so the step's retry does not pay for them again.
    await writes.settle().catch(() => undefined);
    throw error;
  }
}

async function stages(ctx: RunContext, g: GroupRef, library: readonly Experience[], start: GroupStart): Promise<GroupOutcome> {
  const rows = await rolloutAndScore(ctx, g, library, start.sample, start.rollouts);
  const rewards = rows.map((r) => r.reward);
  // Without ground truth every group is kept: the critique compares the rollouts with each other.
  if (ctx.params.groundTruth && (await skipIfNoSignal(ctx, g, rewards))) return "skipped";
  const summaries = await summarise(ctx, g, library, start.sample, rows);
  const reflection = summaries.ok ? await reflect(ctx, g, library, start.sample, rows, summaries.value) : summaries;
  if (!reflection.ok) {
    await recordDropped(ctx, g, rewards, reflection.error);
    return "dropped";
  }
  // The group update call, when there was one and it was paid now, recorded the outcome with its reply.
  if (!reflection.value.recorded) await recordKept(ctx, g, rewards, reflection.value);
  return "kept";
}

/** Writes statements: queued behind the group's earlier writes when it has a queue (not awaited), else now. */
async function write(ctx: RunContext, statements: Promise<BatchItem<"sqlite">[]>): Promise<void> {
  if (ctx.writes) {
    void ctx.writes.add(statements);
    return;
  }
  const [first, ...rest] = await statements;
  if (first) await ctx.d.batch([first, ...rest]);
}

/**
 * Stages 1–2: G rollouts with the library injected, each scored by the verifier. `existing`: the rows
 * already stored. A plain rollout scored without a call is written with its call; a tool rollout (many
 * calls) or one scored by the judge is written once scored. Returns the group's rows.
 */
export async function rolloutAndScore(
  ctx: RunContext,
  g: GroupRef,
  library: readonly Experience[],
  sample: Sample,
  existing: readonly RolloutRow[],
): Promise<RolloutRow[]> {
  if (existing.length === ctx.params.groupSize) return [...existing];
  const have = new Set(existing.map((r) => r.rolloutIdx));
  const messages = rolloutMessages(ctx.agent, sample.question, library);
  const rowOf = (
    k: number,
    response: string,
    score: { reward: number; critique?: string | null },
    trajectory: TrajectoryMessage[] | null,
    toolCalls: number,
  ): RolloutRow => ({
    runId: ctx.run.id,
    epoch: g.epoch,
    batch: g.batch,
    sampleIdx: g.sampleIdx,
    rolloutIdx: k,
    promptVersion: g.libraryVersion,
    response,
    reward: score.reward,
    critique: score.critique ?? null,
    summary: null,
    messages: trajectory,
    toolCalls,
  });
  const made = await Promise.all(
    Array.from({ length: ctx.params.groupSize }, (_, k) => k)
      .filter((k) => !have.has(k))
      .map(async (k): Promise<{ row: RolloutRow; written: boolean }> => {
        const seed = deriveSeed(ctx.params.seed, "rollout", g.epoch, g.sampleIdx, k);
        const input = { question: sample.question, answer: sample.answer };
        if (ctx.tools) {
          const { response, trajectory, toolCalls } = await toolRollout(ctx.call, ctx.tools, {
            key: keyOf(g, `r${k}`),
            messages,
            maxTurns: ctx.params.maxTurns,
            temperature: ctx.params.temperature,
            seed,
          });
          const score = await scoreResponse(ctx, { key: keyOf(g, `r${k}`), ...input, response });
          return { row: rowOf(k, response, score, trajectory as TrajectoryMessage[], toolCalls), written: false };
        }
        let written: RolloutRow | null = null;
        const reply = await callLlm(ctx.call, {
          key: keyOf(g, `r${k}/rollout`),
          stage: "rollout",
          messages,
          temperature: ctx.params.temperature,
          seed,
          parse: (text) => ok(text),
          storeWith: async (response) => {
            const score = scoreWithoutCall(ctx, { ...input, response });
            if (!score) return [];
            const row = rowOf(k, response, score, null, 0);
            written = row;
            return [...(await rolloutStatements(ctx.d, ctx.call.texts, row))];
          },
        });
        if (written) return { row: written, written: true };
        const response = reply.ok ? reply.value : "";
        const score = await scoreResponse(ctx, { key: keyOf(g, `r${k}`), ...input, response });
        return { row: rowOf(k, response, score, null, 0), written: false };
      }),
  );
  const unwritten = made.filter((m) => !m.written).map((m) => m.row);
  await write(
    ctx,
    Promise.all(unwritten.map((row) => rolloutStatements(ctx.d, ctx.call.texts, row))).then((s) => s.flat()),
  );
  // A retried step (something was stored before it) may race an attempt that timed out: what is stored counts.
  // A first attempt is the group's only writer (a lane runs one group at a time): its rows are the group.
  const retried = existing.length > 0 || (ctx.call.preloaded?.calls.size ?? 0) > 0;
  if (retried) {
    await ctx.writes?.settle();
    return groupRollouts(ctx.d, ctx.call.texts, ctx.run.id, g.epoch, g.sampleIdx);
  }
  return made.map((m) => m.row).sort((a, b) => a.rolloutIdx - b.rolloutIdx);
}

/** Stage 3: a group whose rewards are all equal carries no signal and is recorded as skipped. */
export async function skipIfNoSignal(ctx: RunContext, g: GroupRef, rewards: number[]): Promise<boolean> {
  if (hasSignal(rewards)) return false;
  await recordOutcome(ctx, {
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
  // Summaries written with their calls: only those read back from storage may still be missing on their row.
  const written = new Set<number>();
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
        storeWith: async (summary) => {
          written.add(row.rolloutIdx);
          return [
            ...(await rolloutSummaryStatements(
              ctx.d,
              ctx.call.texts,
              { runId: ctx.run.id, epoch: g.epoch, sampleIdx: g.sampleIdx, rolloutIdx: row.rolloutIdx },
              summary,
            )),
          ];
        },
      });
      return reply;
    }),
  );
  const changed = rows.flatMap((row, i) => {
    const reply = summaries[i];
    return reply?.ok && !written.has(row.rolloutIdx) && row.summary !== reply.value
      ? [{ rolloutIdx: row.rolloutIdx, summary: reply.value }]
      : [];
  });
  await write(
    ctx,
    Promise.all(
      changed.map(({ rolloutIdx, summary }) =>
        rolloutSummaryStatements(ctx.d, ctx.call.texts, { runId: ctx.run.id, epoch: g.epoch, sampleIdx: g.sampleIdx, rolloutIdx }, summary),
      ),
    ).then((s) => s.flat()),
  );
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
  /** Whether the group's kept outcome was already written, with the group update call. */
  recorded: boolean;
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
  const rewards = rows.map((r) => r.reward);
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
  if (experiences.length === 0)
    return ok({ advantage: advantage.value.text, experiences, operations: [], refused: [], credit, recorded: false });

  const caps = { maxExperiences: ctx.params.maxExperiences, maxWords: ctx.params.maxWordsPerExperience };
  let recorded = false;
  const reflectionOf = (operations: Operation[]): Reflection => {
    const { kept, refused } = refuseVague(operations);
    return { advantage: advantage.value.text, experiences, operations: kept, refused, credit, recorded };
  };
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
    // The group's outcome goes with the reply that decides it.
    storeWith: async (operations) => {
      recorded = true;
      return [...(await recordGroupStatements(ctx.d, ctx.call.texts, keptRow(ctx, g, rewards, reflectionOf(operations))))];
    },
  });
  if (!update.ok) return { ok: false, error: `group update: ${update.error}` };
  return ok(reflectionOf(update.value));
}

function keptRow(ctx: RunContext, g: GroupRef, rewards: number[], reflection: Reflection) {
  return {
    runId: ctx.run.id,
    epoch: g.epoch,
    batch: g.batch,
    sampleIdx: g.sampleIdx,
    status: "kept" as const,
    meanReward: groupMean(rewards),
    passed: rewards.some((r) => r >= 1),
    advantage: reflection.advantage,
    experiences: reflection.experiences,
    operations: reflection.operations,
    refused: reflection.refused,
    credit: reflection.credit,
  };
}

export async function recordKept(ctx: RunContext, g: GroupRef, rewards: number[], reflection: Reflection): Promise<void> {
  await recordOutcome(ctx, keptRow(ctx, g, rewards, reflection));
}

/** A group's outcome, after every write the group queued before it. */
async function recordOutcome(ctx: RunContext, row: NewGroup): Promise<void> {
  const statements = recordGroupStatements(ctx.d, ctx.call.texts, row);
  if (ctx.writes) await ctx.writes.add(statements.then((s) => [...s]));
  else await ctx.d.batch(await statements);
}

export async function recordDropped(ctx: RunContext, g: GroupRef, rewards: number[], reason: string): Promise<void> {
  await recordOutcome(ctx, {
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
