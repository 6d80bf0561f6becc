import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { envString } from "../shared/env";
import { ApiError } from "../shared/errors";

/** Request body limits (docs/security.md, "Sizes"), each overridable by a Worker var of this name. */
export const BODY_LIMITS = {
  /** Admin API JSON bodies (agents, runs, evaluations…); uploads of data sets have their own limit. */
  MAX_ADMIN_BODY_BYTES: 1024 * 1024,
  /** /v1 request bodies (a chat request with its messages, images as data URLs included). */
  MAX_PROXY_BODY_BYTES: 10 * 1024 * 1024,
} as const;

export function bodyLimitOf(env: Env, name: keyof typeof BODY_LIMITS): number {
  const raw = Number(envString(env, name));
  return Number.isInteger(raw) && raw > 0 ? raw : BODY_LIMITS[name];
}

/**
 * Refuses a body over the limit with 413 before anything parses it: by its declared length when it
 * has one, else while reading it (a chunked body is never held beyond the limit).
 */
export function limitBody(name: keyof typeof BODY_LIMITS, skip: (c: Context) => boolean = () => false): MiddlewareHandler {
  return async (c, next) => {
    if (skip(c)) return next();
    const maxSize = bodyLimitOf(c.env as Env, name);
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(413, `request body is larger than ${maxSize} bytes (${name})`, "body_too_large");
      },
    })(c, next);
  };
}
