import type { BatchItem } from "drizzle-orm/batch";
import type { ChatMessage } from "../core/prompts";
import type { Result } from "../core/result";
import type { Db } from "../db/client";
import { callReply, callsWithPrefix, findCall, storeCall, type LlmCallRow, type NewLlmCall } from "../db/llmCalls";
import type { TextWriter } from "../db/texts";
import { chatCompletion, type RetryPolicy, type UpstreamFetch } from "../llm/client";

/** Everything a stage needs to pay for an LLM call exactly once. */
export type CallContext = {
  d: Db;
  /** The run or evaluation that owns (and is billed for) the call. */
  ownerId: string;
  /** Where the owner's long texts go (R2 under its prefix) and are read back from (src/db/texts.ts). */
  texts: TextWriter;
  send: UpstreamFetch;
  model: string;
  retry: RetryPolicy;
  /** Calls already read from D1 for every key under `prefix`: a key under it that is absent is unpaid. */
  preloaded?: { prefix: string; calls: ReadonlyMap<string, LlmCallRow> };
  /**
   * How a paid reply is stored with its product (`also`: the statements CallSpec.storeWith makes, once
   * their texts are in place). Default: storeCall, awaited. A rollout group queues the write instead
   * (db/writeQueue.ts) and waits for the queue before its step returns.
   */
  store?: (call: NewLlmCall, also: () => Promise<BatchItem<"sqlite">[]>) => Promise<void>;
};

/**
 * The same context with every stored call under `prefix` read in one query, so the calls of a rollout
 * group cost one lookup instead of one each. Valid within one step: calls stored later by others under
 * the prefix are not seen, which is why only the owner of the prefix (one group step) may use it.
 */
export async function preloadCalls(ctx: CallContext, prefix: string): Promise<CallContext> {
  const rows = await callsWithPrefix(ctx.d, ctx.ownerId, prefix);
  return { ...ctx, preloaded: { prefix, calls: new Map(rows.map((r) => [r.callKey, r])) } };
}

/** The same context, known to hold no stored call under `prefix` (its owner checked): no call under it reads D1. */
export function nothingStored(ctx: CallContext, prefix: string): CallContext {
  return { ...ctx, preloaded: { prefix, calls: new Map() } };
}

export type CallSpec<T> = {
  /** Deterministic key (e.g. `e1/s17/r3/rollout`): the same key never pays twice. */
  key: string;
  stage: string;
  messages: ChatMessage[];
  temperature: number;
  seed: number;
  parse: (text: string) => Result<T>;
  /**
   * What the parsed reply produces, written with the call in one D1 batch (db/llmCalls.ts storeCall): one
   * round trip per paid reply, and never a reply stored without its product. Its long texts go to R2
   * before the statements are made. Not run for a reply read back from storage: its product was written
   * with it.
   */
  storeWith?: (value: T) => BatchItem<"sqlite">[] | Promise<BatchItem<"sqlite">[]>;
};

/** Reply attempts when the content does not follow the requested format. */
export const FORMAT_ATTEMPTS = 3;

/**
 * An idempotent, validated LLM call. A stored reply is parsed again instead of calling; otherwise the
 * identical request is resent up to FORMAT_ATTEMPTS times until the reply parses. The outcome (reply
 * or the last format error) is stored under the key, so a replayed Workflow step sees the same result.
 */
export async function callLlm<T>(ctx: CallContext, spec: CallSpec<T>): Promise<Result<T>> {
  const stored =
    ctx.preloaded && spec.key.startsWith(ctx.preloaded.prefix)
      ? ctx.preloaded.calls.get(spec.key)
      : await findCall(ctx.d, ctx.ownerId, spec.key);
  if (stored) {
    const reply = await callReply(ctx.texts, stored);
    return reply === null ? { ok: false, error: stored.error ?? "unusable reply" } : spec.parse(reply);
  }

  const store =
    ctx.store ?? (async (call: NewLlmCall, also: () => Promise<BatchItem<"sqlite">[]>) => storeCall(ctx.d, ctx.texts, call, await also()));
  const usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
  let attempts = 0;
  let lastError = "";
  for (let formatAttempt = 1; formatAttempt <= FORMAT_ATTEMPTS; formatAttempt++) {
    const reply = await chatCompletion(
      ctx.send,
      { model: ctx.model, messages: spec.messages, temperature: spec.temperature, seed: spec.seed },
      ctx.retry,
    );
    attempts += reply.attempts;
    usage.promptTokens += reply.usage.promptTokens;
    usage.completionTokens += reply.usage.completionTokens;
    usage.cachedTokens += reply.usage.cachedTokens;
    const parsed = spec.parse(reply.content);
    if (parsed.ok) {
      await store(
        {
          ownerId: ctx.ownerId,
          callKey: spec.key,
          stage: spec.stage,
          attempts,
          ...usage,
          response: reply.content,
          error: null,
        },
        async () => (spec.storeWith ? await spec.storeWith(parsed.value) : []),
      );
      return parsed;
    }
    lastError = parsed.error;
  }
  const error = `reply unusable after ${FORMAT_ATTEMPTS} attempts: ${lastError}`;
  await store({ ownerId: ctx.ownerId, callKey: spec.key, stage: spec.stage, attempts, ...usage, response: null, error }, async () => []);
  return { ok: false, error };
}
