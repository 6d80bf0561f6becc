import type { MiddlewareHandler } from "hono";
import { countingEnv } from "../db/counting";
import { db } from "../db/client";
import { findServingKey } from "../db/keys";
import { ApiError } from "../shared/errors";
import { UpstreamConfigError } from "../llm/upstream";
import { envString } from "../shared/env";
import { agentSnapshot, stampOf, type AgentSnapshot } from "./libraryCache";
import { singleFlight } from "./singleFlight";
import { servingTtlMs } from "./ttl";
import type { AppEnv } from "../shared/appEnv";
import { bearerToken } from "../auth/adminAuth";
import { hashProxyKey, isProxyKeyFormat } from "../auth/proxyKeys";
import { dayStart, flushedSoFar, secondsToNextDay, tokensUsed, utcDay } from "./keyUsage";
import { isRateTier, RATE_PERIOD_SECONDS, withinRate } from "./keyLimits";

/** Hono environment of the /v1 routes: who is calling, resolved by `proxyAuth`. */
export type ProxyEnv = {
  Bindings: Env;
  Variables: AppEnv["Variables"] & { keyId: string; agent: AgentSnapshot };
};

/**
 * Per-isolate key cache: SHA-256 of a proxy key → its key id, agent and the agent's change stamp.
 *
 * - A cached key is trusted for the serving TTL (`LIBRARY_TTL_SECONDS`, default 5 s) after the D1
 *   check that confirmed it. Once half the TTL has passed, the next request re-checks it in the
 *   background (`waitUntil`), so a busy key is re-validated without any request ever waiting on D1.
 *   An idle key whose TTL has expired is checked synchronously (one query) by the next request.
 * - That check is one query (key ⋈ agent) that also returns the agent's `active_version` and
 *   `updated_at`, which is how a promotion or config change reaches the library cache: no separate
 *   version check.
 * - Revocation: at once in the isolate that served the DELETE (the admin routes call `forgetKey`),
 *   and within one TTL in every other isolate, which stop accepting the key when their entry expires.
 *   A check that was in flight while a key was revoked here never re-admits it (generation counter).
 * - Unknown keys are not cached (a negative cache would not stop random guesses and would delay a
 *   freshly minted key); malformed keys are refused without touching D1.
 */
type KeyEntry = {
  keyId: string;
  agentId: string;
  stamp: string;
  checkedAt: number;
  refreshStartedAt: number;
  /** Epoch ms after which the key is refused; null: never. */
  expiresAt: number | null;
  requestsPerMinute: number | null;
  tokensPerDay: number | null;
  /** The key's tokens of `sumDay` in D1 at the check, and how many of this isolate's were in it (keyUsage.ts). */
  tokens: { sumDay: string; sum: number; flushedAtCheck: number };
};

const keys = new Map<string, KeyEntry>();
let generation = 0;

async function checkKey(env: Env, hash: string): Promise<KeyEntry | null> {
  const startedAt = Date.now();
  const startGeneration = generation;
  const row = await findServingKey(db(env.DB), hash, dayStart(startedAt));
  if (!row) {
    keys.delete(hash);
    return null;
  }
  const sumDay = utcDay(startedAt);
  const entry: KeyEntry = {
    keyId: row.keyId,
    agentId: row.agentId,
    stamp: stampOf(row),
    checkedAt: startedAt,
    refreshStartedAt: 0,
    expiresAt: row.expiresAt === null ? null : Date.parse(row.expiresAt),
    requestsPerMinute: row.requestsPerMinute,
    tokensPerDay: row.tokensPerDay,
    tokens: { sumDay, sum: row.tokensToday, flushedAtCheck: flushedSoFar(row.keyId, sumDay) },
  };
  // Something was revoked or changed here while the query ran: use the answer once, do not cache it.
  if (generation === startGeneration) keys.set(hash, entry);
  return entry;
}

/**
 * Checks in flight, by key hash: requests that find the entry expired while a check of the same key
 * is under way wait for that one instead of each sending its own (under load a check can take longer
 * than the TTL, and every request arriving meanwhile would otherwise query D1).
 */
const checks = singleFlight<KeyEntry | null>();

/** The cached identity of a key, re-checked as described above; null when the key is not valid. */
export async function identifyKey(env: Env, ctx: Pick<ExecutionContext, "waitUntil">, hash: string): Promise<KeyEntry | null> {
  const ttl = servingTtlMs(env);
  const now = Date.now();
  const entry = keys.get(hash);
  if (entry && now - entry.checkedAt < ttl) {
    if (now - entry.checkedAt >= ttl / 2 && now - entry.refreshStartedAt >= ttl) {
      entry.refreshStartedAt = now;
      ctx.waitUntil(checks.run(hash, () => checkKey(env, hash)).catch(() => undefined));
    }
    return entry;
  }
  return checks.run(hash, () => checkKey(env, hash));
}

/** Forgets a revoked key in this isolate, at once (a request arriving later never joins an older check). */
export function forgetKey(keyId: string): void {
  generation++;
  checks.forget(() => true);
  for (const [hash, entry] of keys) if (entry.keyId === keyId) keys.delete(hash);
}

/** Makes the next request with any key of the agent re-check D1 (after the agent changed here). */
export function expireAgentKeys(agentId: string): void {
  generation++;
  checks.forget(() => true);
  for (const [hash, entry] of keys) if (entry.agentId === agentId) keys.delete(hash);
}

export function keyCacheSize(): number {
  return keys.size;
}

const unauthorized = (message: string) => new ApiError(401, message, "invalid_api_key");

/**
 * The key's limits, from its cached entry (no D1 read): requests per minute through the Rate Limiting
 * binding of its tier, tokens per UTC day from the usage log (keyUsage.ts). Over a limit → 429 with
 * `Retry-After` (the binding's window; the next UTC midnight).
 */
async function checkLimits(env: Env, entry: KeyEntry, now: number): Promise<void> {
  if (entry.tokensPerDay !== null) {
    const used = tokensUsed(entry.keyId, utcDay(now), entry.tokens);
    if (used >= entry.tokensPerDay) {
      throw new ApiError(
        429,
        `this key has used its ${entry.tokensPerDay} tokens for today (UTC); the limit resets at midnight UTC`,
        "daily_token_limit",
        null,
        secondsToNextDay(now),
      );
    }
  }
  const rpm = entry.requestsPerMinute;
  if (rpm !== null && isRateTier(rpm) && !(await withinRate(env, entry.keyId, rpm))) {
    throw new ApiError(429, `this key is limited to ${rpm} requests per minute`, "rate_limit_exceeded", null, RATE_PERIOD_SECONDS);
  }
}

/**
 * Authenticates a proxy key — `Authorization: Bearer <key>`, or `x-api-key: <key>` as Anthropic's
 * clients send it — applies its expiry and limits, and loads the agent's serving snapshot.
 */
export const proxyAuth: MiddlewareHandler<ProxyEnv> = async (c, next) => {
  if (envString(c.env, "DEBUG_COUNT_D1") === "1") c.env = countingEnv(c.env);
  const token = c.req.header("x-api-key")?.trim() || bearerToken(c.req.header("authorization"));
  if (!token) throw unauthorized("missing proxy key: send 'Authorization: Bearer <proxy key>' (or 'x-api-key: <proxy key>')");
  // Only a string of exactly our format costs a hash and a D1 query.
  if (!isProxyKeyFormat(token)) throw unauthorized("invalid proxy key");
  const entry = await identifyKey(c.env, c.executionCtx, await hashProxyKey(token));
  if (!entry) throw unauthorized("invalid proxy key");
  const now = Date.now();
  if (entry.expiresAt !== null && now >= entry.expiresAt) throw unauthorized("this proxy key has expired");
  await checkLimits(c.env, entry, now);
  let agent: AgentSnapshot | null;
  try {
    agent = await agentSnapshot(c.env, entry.agentId, entry.stamp);
  } catch (error) {
    if (error instanceof UpstreamConfigError) {
      // The detail (which secret, which URL rule) is for the admin's logs, not for a key holder.
      const requestId = c.get("requestId");
      console.error(`request ${requestId}: agent ${entry.agentId} cannot be served: ${error.message}`);
      throw new ApiError(
        500,
        `the agent's upstream is misconfigured; ask its administrator (request id ${requestId})`,
        "upstream_misconfigured",
      );
    }
    throw error;
  }
  if (!agent) throw unauthorized("invalid proxy key");
  c.set("keyId", entry.keyId);
  c.set("agent", agent);
  await next();
};
