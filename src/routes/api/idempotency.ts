import type { Context } from "hono";
import { sha256Hex } from "../../auth/crypto";
import { db } from "../../db/client";
import { claimIdempotencyKey, findIdempotencyKey, releaseIdempotencyKey, storeIdempotentResponse } from "../../db/idempotency";
import type { AppEnv } from "../../shared/appEnv";
import { ApiError, badRequest } from "../../shared/errors";

export const IDEMPOTENCY_HEADER = "idempotency-key";
/** Set on a response that is the stored answer to an earlier request with the same key. */
export const REPLAYED_HEADER = "idempotent-replayed";
/** An unanswered claim this old belongs to a request that died; a retry takes it over. */
const STALE_CLAIM_MS = 2 * 60_000;

const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Runs `start` (which starts paid work) at most once per `Idempotency-Key` header and route: a retry
 * with the same key and body gets the first answer back (docs/security.md, "Idempotent starts"); the
 * same key with another body is a 422, and a retry while the first is still being answered a 409.
 * Only successful answers are kept: a failed start may be retried with the same key. Without the
 * header, `start` just runs.
 */
export async function idempotent<T>(c: Context<AppEnv>, route: string, request: unknown, start: () => Promise<T>): Promise<T> {
  const key = c.req.header(IDEMPOTENCY_HEADER);
  if (key === undefined) return start();
  if (!KEY.test(key)) throw badRequest("Idempotency-Key must be 1-255 printable ASCII characters", "invalid_header", IDEMPOTENCY_HEADER);
  const d = db(c.env.DB);
  const hash = await sha256Hex(JSON.stringify(request));
  const now = Date.now();
  if (!(await claimIdempotencyKey(d, route, key, hash, new Date(now - STALE_CLAIM_MS).toISOString()))) {
    const row = await findIdempotencyKey(d, route, key);
    if (row && row.requestHash !== hash) {
      throw new ApiError(
        422,
        "this Idempotency-Key was used for a different request; use a new key",
        "idempotency_key_reused",
        IDEMPOTENCY_HEADER,
      );
    }
    if (row?.status != null) {
      c.header(REPLAYED_HEADER, "true");
      return row.response as T;
    }
    throw new ApiError(
      409,
      "a request with this Idempotency-Key is still being answered; retry shortly",
      "idempotency_key_in_progress",
      IDEMPOTENCY_HEADER,
    );
  }
  let result: T;
  try {
    result = await start();
  } catch (error) {
    await releaseIdempotencyKey(d, route, key);
    throw error;
  }
  await storeIdempotentResponse(d, route, key, 201, result);
  return result;
}
