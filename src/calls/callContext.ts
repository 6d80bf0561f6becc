import type { AgentRow } from "../db/agents";
import type { Db } from "../db/client";
import { textWriter } from "../db/texts";
import { DEFAULT_RETRY, type RetryPolicy } from "../llm/client";
import { resolveUpstream, upstreamFetch, upstreamHeaders } from "../llm/upstream";
import { anthropicSend } from "../llm/anthropic";
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
    const headers = upstreamHeaders(upstream);
    for (const [name, value] of new Headers(init.headers)) headers.set(name, value);
    return upstreamFetch(upstream.baseUrl, path, { ...init, headers });
  };
  // An Anthropic upstream is called through the Messages API, translated at the edge (llm/anthropic.ts).
  return {
    d,
    ownerId,
    texts: textWriter(env, { agentId: agent.id, ownerId }),
    send: upstream.format === "anthropic" ? anthropicSend(send) : send,
    model: upstream.model,
    retry,
  };
}
