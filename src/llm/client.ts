import { z } from "zod";
import { sleep } from "../shared/time";

/** Sends a request to the upstream (network or in-process simulated model). */
export type UpstreamFetch = (path: string, init: RequestInit) => Promise<Response>;

export type ChatRequest = {
  model: string;
  /** Plain chat messages, or a tool-using trajectory (assistant `tool_calls`, `tool` messages). */
  messages: readonly ({ role: string; content: string | null } & Record<string, unknown>)[];
  temperature?: number;
  seed?: number;
  max_tokens?: number;
  tools?: readonly { type: "function"; function: { name: string; description?: string; parameters?: Record<string, unknown> } }[];
};

export type ReplyToolCall = { id: string; type: "function"; function: { name: string; arguments: string } };

export type Usage = { promptTokens: number; completionTokens: number; cachedTokens: number };
export type ChatResult = { content: string; usage: Usage; attempts: number; toolCalls: ReplyToolCall[] };

const toolCallSchema = z.object({
  id: z.string().max(200),
  type: z.literal("function").default("function"),
  function: z.object({ name: z.string().max(200), arguments: z.string().default("") }),
});

export type RetryPolicy = {
  /** Transport attempts per call (429, 5xx, timeouts, network errors). */
  maxAttempts: number;
  timeoutMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
};

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, timeoutMs: 60_000, baseDelayMs: 500, maxDelayMs: 20_000 };

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable().optional(), tool_calls: z.array(toolCallSchema).max(64).nullish() }) })).min(1),
  usage: z
    .object({
      prompt_tokens: z.number().optional(),
      completion_tokens: z.number().optional(),
      prompt_tokens_details: z.object({ cached_tokens: z.number().optional() }).nullish(),
    })
    .nullish(),
});

/** An upstream failure after the retry budget; the Workflow step fails and the engine retries the step. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/** Seconds or an HTTP date, as `Retry-After` allows; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

/** Exponential backoff with deterministic jitter-free growth, capped; `Retry-After` wins when given. */
export function backoffMs(attempt: number, policy: RetryPolicy, retryAfter: number | null): number {
  if (retryAfter !== null) return Math.min(retryAfter, policy.maxDelayMs);
  return Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
}


/**
 * One chat completion with bounded transport retries. This is the only retry layer for transport
 * faults; format problems in a reply are the caller's concern.
 */
export async function chatCompletion(send: UpstreamFetch, body: ChatRequest, policy: RetryPolicy = DEFAULT_RETRY): Promise<ChatResult> {
  let lastError = "no attempt made";
  let lastStatus: number | null = null;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    let retryAfter: number | null = null;
    try {
      const response = await send("/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(policy.timeoutMs),
      });
      if (response.ok) {
        const parsed = completionSchema.safeParse(await response.json().catch(() => null));
        if (parsed.success) {
          const usage = parsed.data.usage;
          return {
            content: parsed.data.choices[0]?.message.content ?? "",
            usage: {
              promptTokens: usage?.prompt_tokens ?? 0,
              completionTokens: usage?.completion_tokens ?? 0,
              cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
            },
            attempts: attempt,
            toolCalls: parsed.data.choices[0]?.message.tool_calls ?? [],
          };
        }
        lastError = "upstream returned a body that is not a chat completion";
        lastStatus = response.status;
      } else {
        lastStatus = response.status;
        lastError = `upstream answered HTTP ${response.status}`;
        await response.body?.cancel();
        if (!RETRYABLE.has(response.status)) throw new UpstreamError(lastError, response.status);
        retryAfter = retryAfterMs(response.headers.get("retry-after"), Date.now());
      }
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      lastStatus = null;
      lastError = error instanceof Error && error.name === "TimeoutError" ? `upstream timed out after ${policy.timeoutMs} ms` : "upstream unreachable";
    }
    if (attempt < policy.maxAttempts) await sleep(backoffMs(attempt, policy, retryAfter));
  }
  throw new UpstreamError(`${lastError} (after ${policy.maxAttempts} attempts)`, lastStatus);
}
