import { z } from "zod";
import type { Slots } from "../shared/limit";
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
  /** Bytes read from one reply at most (a training call never buffers an unbounded body). */
  maxReplyBytes: number;
  /** Jitter source in [0, 1); injectable for tests. Calls run inside Workflow steps, where randomness is allowed. */
  random?: () => number;
  /**
   * The invocation's outbound connections (6 at most): an attempt takes one before its timeout starts
   * and holds it until its reply is read, so a call queued behind others is not timed out for waiting.
   */
  connections?: Slots;
};

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  timeoutMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxReplyBytes: 4 * 1024 * 1024,
};

const completionSchema = z.object({
  choices: z
    .array(
      z.object({ message: z.object({ content: z.string().nullable().optional(), tool_calls: z.array(toolCallSchema).max(64).nullish() }) }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().optional(),
      completion_tokens: z.number().optional(),
      prompt_tokens_details: z.object({ cached_tokens: z.number().optional() }).nullish(),
    })
    .nullish(),
});

/**
 * An upstream failure. `retryable` false: the request cannot succeed as sent (400, 401, 403, 404, 422,
 * an exhausted quota, a redirect, an oversized reply), so the Workflow step must not be retried either
 * (durable/steps.ts turns it into a NonRetryableError). Otherwise the retry budget was spent.
 */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable = true,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/** `retry-after-ms` (OpenAI's, milliseconds) first, else `retry-after` in seconds or as an HTTP date; null when absent or unreadable. */
export function retryAfterMs(headers: Headers, now: number): number | null {
  const ms = Number(headers.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const header = headers.get("retry-after");
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

/**
 * Exponential backoff with full jitter (a random delay up to the capped exponential), so the groups of
 * a batch that failed together do not retry together; the upstream's retry hint wins when given.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, retryAfter: number | null): number {
  if (retryAfter !== null) return Math.min(retryAfter, policy.maxDelayMs);
  const ceiling = Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  return Math.floor((policy.random ?? Math.random)() * ceiling);
}

/** A 429 that says the account is out of quota or credit: waiting does not help. */
async function isQuotaError(response: Response): Promise<boolean> {
  const text = await readCapped(response, 64 * 1024).catch(() => "");
  return /insufficient_quota|quota|billing|credit/i.test(text);
}

/** The body as text, refusing to read past `maxBytes`. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new UpstreamError(`upstream reply of ${declared} bytes is larger than ${maxBytes}`, response.status, false);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new UpstreamError(`upstream reply is larger than ${maxBytes} bytes`, response.status, false);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * One chat completion with bounded transport retries. This is the only retry layer for transport
 * faults; format problems in a reply are the caller's concern.
 */
export async function chatCompletion(send: UpstreamFetch, body: ChatRequest, policy: RetryPolicy = DEFAULT_RETRY): Promise<ChatResult> {
  let failure: Failure = { error: "no attempt made", status: null, retryAfter: null };
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    const once = () => attemptOnce(send, body, policy, attempt);
    const outcome = await (policy.connections ? policy.connections.run(once) : once());
    if ("content" in outcome) return outcome;
    failure = outcome;
    if (attempt < policy.maxAttempts) await sleep(backoffMs(attempt, policy, failure.retryAfter));
  }
  throw new UpstreamError(`${failure.error} (after ${policy.maxAttempts} attempts)`, failure.status);
}

type Failure = { error: string; status: number | null; retryAfter: number | null };

/** One attempt, its timeout started now (after a connection was free); throws only what must not be retried. */
async function attemptOnce(send: UpstreamFetch, body: ChatRequest, policy: RetryPolicy, attempt: number): Promise<ChatResult | Failure> {
  try {
    const response = await send("/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(policy.timeoutMs),
    });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      // Redirects are not followed (the key would go with them): a moved API needs a new base URL.
      throw new UpstreamError(`upstream answered HTTP ${response.status} (a redirect; not followed)`, response.status, false);
    }
    if (response.ok) {
      const parsed = completionSchema.safeParse(parseJson(await readCapped(response, policy.maxReplyBytes)));
      if (!parsed.success)
        return { error: "upstream returned a body that is not a chat completion", status: response.status, retryAfter: null };
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
    const error = `upstream answered HTTP ${response.status}`;
    const quota = response.status === 429 && (await isQuotaError(response));
    await response.body?.cancel().catch(() => undefined);
    if (!RETRYABLE.has(response.status) || quota) {
      throw new UpstreamError(
        `${error}${quota ? " (quota exhausted)" : ""}; not retried: the request cannot succeed as sent`,
        response.status,
        false,
      );
    }
    return { error, status: response.status, retryAfter: retryAfterMs(response.headers, Date.now()) };
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    return { error: timedOut ? `upstream timed out after ${policy.timeoutMs} ms` : "upstream unreachable", status: null, retryAfter: null };
  }
}
