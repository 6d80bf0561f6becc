import type { Context } from "hono";
import { ApiError } from "../shared/errors";
import type { AppEnv } from "../shared/appEnv";
import { CSRF_HEADER, changesState, readSessionCookie, sameOriginWrite, verifySession } from "./session";

const isHttps = (c: Context<AppEnv>): boolean => new URL(c.req.url).protocol === "https:";

/**
 * Admits a request without a Bearer token when it carries a valid dashboard session; a state-changing
 * one must also pass the CSRF check (docs/dashboard.md §2). False when there is no session cookie at
 * all, so the caller can answer with its usual "missing token".
 */
export async function admitSession(c: Context<AppEnv>): Promise<boolean> {
  const https = isHttps(c);
  const value = readSessionCookie(c.req.header("cookie"), https);
  if (value === null) return false;
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw new ApiError(401, "the admin API is disabled: ADMIN_TOKEN is not configured", "admin_disabled");
  if ((await verifySession(value, expected, Math.floor(Date.now() / 1000))) === null) {
    throw new ApiError(401, "the dashboard session has expired or is invalid: sign in again", "session_expired");
  }
  if (changesState(c.req.method) && !sameOriginWrite(c.req.url, c.req.header("origin"), c.req.header(CSRF_HEADER))) {
    throw new ApiError(
      403,
      `a session-authenticated ${c.req.method} needs the '${CSRF_HEADER}: 1' header and a same-origin Origin`,
      "csrf_rejected",
    );
  }
  return true;
}

export { isHttps };
