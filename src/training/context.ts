import { z } from "zod";
import { hyperparamsSchema } from "../core/hyperparams";
import type { AgentRow } from "../db/agents";
import { db, type Db } from "../db/client";
import { findRun, findRunWithAgent, type RunRow } from "../db/runs";
import { verifierSpecSchema, type VerifierSpec } from "../verifiers";
import { callContextFor } from "../calls/callContext";
import type { CallContext } from "../calls/llmCall";

/** What a run stores as its parameters: resolved hyperparameters plus run-only settings. */
export const runParamsSchema = hyperparamsSchema.extend({
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  budgetTokens: z.number().int().positive().nullable(),
  /** Per-call upstream timeout; a hung call is retried after it. */
  timeoutMs: z.number().int().min(100).max(600_000),
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
};

export class RunGoneError extends Error {}

export async function loadRunContext(env: Env, runId: string): Promise<RunContext> {
  const d = db(env.DB);
  const found = await findRunWithAgent(d, runId);
  if (!found) throw new RunGoneError((await findRun(d, runId)) ? `agent of run ${runId} no longer exists` : `run ${runId} no longer exists`);
  const { run, agent } = found;
  const params = runParamsSchema.parse(run.params);
  return {
    d,
    run,
    agent,
    params,
    verifier: verifierSpecSchema.parse(agent.verifier),
    call: await callContextFor(env, d, agent, run.id, params.timeoutMs),
  };
}
