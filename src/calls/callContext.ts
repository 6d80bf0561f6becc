import type { AgentRow } from "../db/agents";
import type { Db } from "../db/client";
import { DEFAULT_RETRY, type RetryPolicy } from "../llm/client";
import { resolveUpstream, upstreamFetch } from "../llm/upstream";
import type { CallContext } from "./llmCall";


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
