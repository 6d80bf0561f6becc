import { z } from "zod";
import { hyperparamsSchema } from "../core/hyperparams";
import type { AgentRow } from "../db/agents";
import { db, type Db } from "../db/client";
import { findRun, findRunWithAgent, type RunRow } from "../db/runs";
import { DEFAULT_RETRY, type RetryPolicy } from "../llm/client";
import { resolveUpstream, upstreamFetch } from "../llm/upstream";
import { verifierSpecSchema, type VerifierSpec } from "../verifiers";
import type { CallContext } from "./llmCall";

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

/**
 * How a run or an evaluation pays for LLM calls: the agent's upstream, billed to `ownerId` (the run or
 * evaluation id, which also namespaces the idempotency keys of its calls).
 */
export async function callContextFor(env: Env, d: Db, agent: AgentRow, ownerId: string, timeoutMs: number): Promise<CallContext> {
  const upstream = await resolveUpstream(env, agent);
  const retry: RetryPolicy = { ...DEFAULT_RETRY, timeoutMs };
  const send = (path: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    if (upstream.apiKey) headers.set("authorization", `Bearer ${upstream.apiKey}`);
    return upstreamFetch(upstream.baseUrl, path, { ...init, headers });
  };
  return { d, ownerId, send, model: upstream.model, retry };
}
