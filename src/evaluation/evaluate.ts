import { createInstances } from "../durable/instances";
import { z } from "zod";
import { WorkflowStartError } from "../shared/errors";
import { deriveSeed } from "../core/batching";
import { evaluationFigures } from "../core/evaluationFigures";
import type { Experience } from "../core/library";
import { groupMean } from "../core/metrics";
import { ok } from "../core/result";
import { rolloutMessages } from "../core/rollout";
import { findAgent, type AgentRow } from "../db/agents";
import { db, type Db } from "../db/client";
import {
  evaluationScoreRows,
  findEvaluation,
  findScore,
  finishEvaluation,
  insertEvaluation,
  insertScore,
  versionTokens,
  type EvaluationRow,
  type TokenTotals,
} from "../db/evaluationRows";
import { sampleAt } from "../db/datasets";
import { verifierSpecSchema, type VerifierSpec } from "../verifiers";
import { callContextFor } from "../calls/callContext";
import { CONNECTIONS_PER_INVOCATION, mapLimit } from "../shared/limit";
import { callLlm, type CallContext } from "../calls/llmCall";
import { scoreResponse } from "../calls/scoring";
import { agentTools, startMcpTools, toolBoxFor } from "../calls/toolBox";
import { toolRollout } from "../calls/toolRollout";
import type { ToolBox } from "../tools/dispatch";
import { MAX_TURNS_DEFAULT, maxTurnsSchema, mcpToolListSchema, toolListSchema, type ToolSpec } from "../tools/specs";
import { MAX_REPLAY_SAMPLE, REPLAY_JUDGES } from "../core/replay";

/** What an evaluation stores as its parameters. */
export const evalParamsSchema = z.object({
  k: z.number().int().min(1).max(64),
  temperature: z.number().min(0).max(2),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  samples: z.number().int().min(0),
  /** Questions per child instance, and child instances in flight at once. */
  chunkSize: z.number().int().min(1).max(100),
  maxChunksInFlight: z.number().int().min(1).max(100),
  timeoutMs: z.number().int().min(100).max(600_000),
  /** The agent's tools when the evaluation started: rollouts are the same ReAct loop as in training. */
  tools: toolListSchema.default([]),
  /** The MCP tools listed when the evaluation started: every rollout (and a replay) offers the same. */
  mcpTools: mcpToolListSchema.default([]),
  maxTurns: maxTurnsSchema.default(MAX_TURNS_DEFAULT),
  /** A replay evaluation (kind "replay"): the captured requests replayed, in order, and how they are judged. */
  replay: z
    .object({
      requestIds: z.array(z.string()).max(MAX_REPLAY_SAMPLE),
      judge: z.enum(REPLAY_JUDGES),
      judgeModel: z.string().nullable(),
    })
    .optional(),
});
export type EvalParams = z.infer<typeof evalParamsSchema>;

/** Where an evaluation reports when it ends: a parent Workflow instance waiting for an event. */
export type EvalNotify = { binding: "TRAINING_RUN" | "PROTOCOL"; instanceId: string; type: string };
export type EvaluationParams = { evaluationId: string; notify: EvalNotify | null };

/** Everything an evaluation step needs, rebuilt from D1 inside each step. */
export type EvalContext = {
  d: Db;
  evaluation: EvaluationRow;
  agent: AgentRow;
  params: EvalParams;
  verifier: VerifierSpec;
  call: CallContext;
  tools: ToolBox | null;
};

export class EvaluationGoneError extends Error {}

export async function loadEvalContext(env: Env, evaluationId: string): Promise<EvalContext> {
  const d = db(env.DB);
  const evaluation = await findEvaluation(d, evaluationId);
  if (!evaluation) throw new EvaluationGoneError(`evaluation ${evaluationId} no longer exists`);
  const agent = await findAgent(d, evaluation.agentId);
  if (!agent) throw new EvaluationGoneError(`agent of evaluation ${evaluationId} no longer exists`);
  const params = evalParamsSchema.parse(evaluation.params);
  return {
    d,
    evaluation,
    agent,
    params,
    verifier: verifierSpecSchema.parse(agent.verifier),
    // The evaluation owns its calls: keys `v<version>/s<sample>/r<j>` never collide with a run's.
    call: await callContextFor(env, d, agent, evaluation.id, params.timeoutMs),
    tools: toolBoxFor(env, params.tools, params.mcpTools),
  };
}

/**
 * k samples of one question under one library version, each scored; stored once. The seed of sample
 * j depends on the question and j but not on the version, so versions are compared on common random
 * numbers (what the paired interval assumes). Returns the question's mean reward.
 */
export async function evaluateQuestion(
  ctx: EvalContext,
  sampleIdx: number,
  version: number,
  library: readonly Experience[],
): Promise<number> {
  const done = await findScore(ctx.d, ctx.evaluation.id, version, sampleIdx);
  if (done) return done.meanReward;
  const sample = await sampleAt(ctx.d, ctx.evaluation.datasetId, sampleIdx);
  if (!sample) throw new Error(`sample ${sampleIdx} of the evaluation's data set is missing`);
  const messages = rolloutMessages(ctx.agent, sample.question, library);
  const indices = Array.from({ length: ctx.params.k }, (_, j) => j);
  const rewards = await mapLimit(indices, CONNECTIONS_PER_INVOCATION, async (j) => {
    const key = `v${version}/s${sampleIdx}/r${j}`;
    const seed = deriveSeed(ctx.params.seed, "eval", sampleIdx, j);
    let response: string;
    if (ctx.tools) {
      response = (
        await toolRollout(ctx.call, ctx.tools, { key, messages, maxTurns: ctx.params.maxTurns, temperature: ctx.params.temperature, seed })
      ).response;
    } else {
      const reply = await callLlm(ctx.call, {
        key,
        stage: "rollout",
        messages,
        temperature: ctx.params.temperature,
        seed,
        parse: (text) => ok(text),
      });
      response = reply.ok ? reply.value : "";
    }
    return (await scoreResponse(ctx, { key, question: sample.question, answer: sample.answer, response })).reward;
  });
  const meanReward = groupMean(rewards);
  await insertScore(ctx.d, { evaluationId: ctx.evaluation.id, version, sampleIdx, rewards, meanReward });
  return meanReward;
}

/** Computes the figures from the stored scores and closes the evaluation (once). */
export async function finishEvaluationRun(ctx: EvalContext, failures: string[]): Promise<{ status: "completed" | "failed" }> {
  const rows = await evaluationScoreRows(ctx.d, ctx.evaluation.id);
  const rewards = new Map<number, Map<number, number[]>>();
  for (const v of ctx.evaluation.versions) rewards.set(v, new Map());
  for (const r of rows) rewards.get(r.version)?.set(r.sampleIdx, r.rewards);
  const figures = evaluationFigures(ctx.evaluation.versions, rewards, ctx.params.k, ctx.params.seed);
  const missing = ctx.params.samples - figures.questions;
  const error =
    failures.length > 0 || missing > 0
      ? [`${missing} of ${ctx.params.samples} questions not scored for every version`, ...failures.slice(0, 5)].join("; ")
      : null;
  const status = error === null ? "completed" : "failed";
  await finishEvaluation(ctx.d, ctx.evaluation.id, { status, summary: figures, error });
  return { status };
}

/** Figures plus tokens per version, for reports. */
export async function evaluationTokens(d: Db, evaluation: EvaluationRow): Promise<Record<string, TokenTotals>> {
  const entries = await Promise.all(evaluation.versions.map(async (v) => [String(v), await versionTokens(d, evaluation.id, v)] as const));
  return Object.fromEntries(entries);
}

/** Defaults of a new evaluation. */
export const EVAL_DEFAULTS = { k: 4, temperature: 0.3, seed: 1, maxChunksInFlight: 16, timeoutMs: 120_000 } as const;

export type NewEvaluation = {
  id: string;
  agent: AgentRow;
  dataset: { id: string; sampleCount: number };
  versions: number[];
  k: number;
  temperature: number;
  seed: number;
  purpose: "manual" | "gate" | "protocol";
  runId?: string | null;
  chunkSize?: number;
  maxChunksInFlight?: number;
  timeoutMs?: number;
  notify?: EvalNotify | null;
  /** Replaces the agent's tools (the paper protocol's "no-tools" variant passes []). */
  tools?: ToolSpec[];
  /** A replay of captured requests instead of a data set (src/evaluation/replay.ts); `dataset` is then { id: "", sampleCount: captures }. */
  replay?: NonNullable<EvalParams["replay"]>;
};

/**
 * Stores an evaluation and starts its Workflow; idempotent by id (a replayed step finds both the row
 * and the instance it made).
 */
export async function startEvaluation(env: Env, input: NewEvaluation, chunkSizeFor: (questions: number) => number): Promise<EvaluationRow> {
  const d = db(env.DB);
  const tools = input.tools ?? agentTools(input.agent);
  // A replayed step finds the row it stored and keeps the tools listed then.
  const existing = await findEvaluation(d, input.id);
  const stored = existing ? evalParamsSchema.safeParse(existing.params) : null;
  const mcpTools = stored?.success ? stored.data.mcpTools : await startMcpTools(env, tools);
  const params: EvalParams = {
    k: input.k,
    temperature: input.temperature,
    seed: input.seed,
    samples: input.dataset.sampleCount,
    chunkSize: input.chunkSize ?? chunkSizeFor(input.dataset.sampleCount),
    maxChunksInFlight: input.maxChunksInFlight ?? EVAL_DEFAULTS.maxChunksInFlight,
    timeoutMs: input.timeoutMs ?? EVAL_DEFAULTS.timeoutMs,
    tools,
    mcpTools,
    maxTurns: input.agent.maxTurns,
    ...(input.replay ? { replay: input.replay } : {}),
  };
  const row = await insertEvaluation(d, {
    id: input.id,
    agentId: input.agent.id,
    datasetId: input.dataset.id,
    purpose: input.purpose,
    kind: input.replay ? "replay" : "labelled",
    runId: input.runId ?? null,
    versions: input.versions,
    params,
    status: "queued",
  });
  try {
    await createInstances(env.EVALUATION, [
      { id: row.id, params: { evaluationId: row.id, notify: input.notify ?? null } satisfies EvaluationParams },
    ]);
  } catch {
    // A manual start has no step to retry it: record the failure as startRun does. Gate and protocol
    // starts run inside a step whose retry finds this row and creates the instance.
    if (input.purpose === "manual")
      await finishEvaluation(d, row.id, { status: "failed", error: "the Workflow engine refused the evaluation" });
    throw new WorkflowStartError("could not start the evaluation Workflow");
  }
  return row;
}
