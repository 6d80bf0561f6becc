import type { AgentRow } from "../db/agents";
import type { Db } from "../db/client";
import { DEFAULT_RETRY, type RetryPolicy } from "../llm/client";
import { resolveUpstream, upstreamFetch } from "../llm/upstream";
import type { CallContext } from "./llmCall";
import { CONNECTIONS_PER_INVOCATION, slots } from "../shared/limit";


/**
 * How a run or an evaluation pays for LLM calls: the agent's upstream, billed to `ownerId` (the run or
 * evaluation id, which also namespaces the idempotency keys of its calls).
 */
export async function callContextFor(env: Env, d: Db, agent: AgentRow, ownerId: string, timeoutMs: number): Promise<CallContext> {
  const upstream = await resolveUpstream(env, agent);
  // One context per step invocation: its calls share the invocation's 6 connections, and each call's
  // timeout starts only once it holds one (a group fires G rollouts at once, G may exceed 6).
  const retry: RetryPolicy = { ...DEFAULT_RETRY, timeoutMs, connections: slots(CONNECTIONS_PER_INVOCATION) };
  const send = (path: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    if (upstream.apiKey) headers.set("authorization", `Bearer ${upstream.apiKey}`);
    return upstreamFetch(upstream.baseUrl, path, { ...init, headers });
  };
  return { d, ownerId, send, model: upstream.model, retry };
}
