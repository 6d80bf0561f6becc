import { z } from "zod";
import { hyperparamsSchema } from "../core/hyperparams";
import type { AgentRow } from "../db/agents";
import { db, type Db } from "../db/client";
import type { WriteQueue } from "../db/writeQueue";
import { findRun, findRunWithAgent, type RunRow } from "../db/runs";
import { verifierSpecSchema, type VerifierSpec } from "../verifiers";
import { callContextFor } from "../calls/callContext";
import type { CallContext } from "../calls/llmCall";
import { toolBoxFor } from "../calls/toolBox";
import type { ToolBox } from "../tools/dispatch";
import { DEFAULT_REFLECTION_TOOL_CHARS } from "../tools/messages";
import { MAX_TURNS_DEFAULT, maxTurnsSchema, mcpToolListSchema, toolListSchema } from "../tools/specs";

/** What a run stores as its parameters: resolved hyperparameters plus run-only settings. */
export const runParamsSchema = hyperparamsSchema.extend({
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  budgetTokens: z.number().int().positive().nullable(),
  /** Per-call upstream timeout; a hung call is retried after it. */
  timeoutMs: z.number().int().min(100).max(600_000),
  /** The agent's tools when the run started (src/tools/specs.ts): a replay sees the same tools. */
  tools: toolListSchema.default([]),
  /** The MCP tools listed when the run started (src/tools/mcp.ts): a replay offers the same ones. */
  mcpTools: mcpToolListSchema.default([]),
  maxTurns: maxTurnsSchema.default(MAX_TURNS_DEFAULT),
  /** The agent's upstream model when the run started: its versions record it (docs/ownership.md). */
  model: z.string().optional(),
  /** Characters of one tool result shown to the reflection prompts. */
  reflectionToolChars: z.number().int().min(100).max(100_000).default(DEFAULT_REFLECTION_TOOL_CHARS),
  /**
   * Batches per segment instance, fixed when the run starts (src/core/stepBudget.ts), so that recovery
   * finds the same segments after a deployment that plans differently. Absent on runs from before segments.
   */
  segmentBatches: z.number().int().min(1).optional(),
});
export type RunParams = z.infer<typeof runParamsSchema>;

/** Everything a training step needs, rebuilt from D1 inside each step (never carried in step results). */
export type RunContext = {
  d: Db;
  run: RunRow;
  agent: AgentRow;
  params: RunParams;
  verifier: VerifierSpec;
  call: CallContext;
  /** The run's tools; null: plain chat rollouts. */
  tools: ToolBox | null;
  /** Where a rollout group's writes are queued (src/training/group.ts); absent: each write is awaited. */
  writes?: WriteQueue;
};

export class RunGoneError extends Error {}

export async function loadRunContext(env: Env, runId: string): Promise<RunContext> {
  const d = db(env.DB);
  const found = await findRunWithAgent(d, runId);
  if (!found)
    throw new RunGoneError((await findRun(d, runId)) ? `agent of run ${runId} no longer exists` : `run ${runId} no longer exists`);
  const { run, agent } = found;
  const params = runParamsSchema.parse(run.params);
  return {
    d,
    run,
    agent,
    params,
    verifier: verifierSpecSchema.parse(agent.verifier),
    call: await callContextFor(env, d, agent, run.id, params.timeoutMs),
    tools: toolBoxFor(env, params.tools, params.mcpTools),
  };
}
