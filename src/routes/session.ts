import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { constantTimeEqual } from "../auth/crypto";
import {
  CSRF_HEADER,
  clearSessionCookie,
  issueSession,
  readSessionCookie,
  sameOriginWrite,
  sessionCookie,
  verifySession,
} from "../auth/session";
import { isHttps } from "../auth/sessionGuard";
import { ApiError } from "../shared/errors";
import type { AppEnv } from "../shared/appEnv";
import { describeIssues } from "./router";

const signInBody = z.object({ token: z.string().min(1).max(1024) }).strict();
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The dashboard's session: sign in with the admin token, check, sign out (docs/dashboard.md §2). */
export const sessionRouter = new Hono<AppEnv>();

// Signing in and out change state: same checks as any session-authenticated write, which also stops a
// cross-site page from signing the browser in to an attacker's token.
sessionRouter.use(async (c, next) => {
  if (c.req.method !== "GET" && !sameOriginWrite(c.req.url, c.req.header("origin"), c.req.header(CSRF_HEADER))) {
    throw new ApiError(403, `signing in or out needs the '${CSRF_HEADER}: 1' header and a same-origin Origin`, "csrf_rejected");
  }
  await next();
});

sessionRouter.post(
  "/session",
  bodyLimit({
    maxSize: 4096,
    onError: () => {
      throw new ApiError(413, "sign-in body over 4096 bytes", "body_too_large");
    },
  }),
  async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw new ApiError(400, 'sign-in body must be JSON: {"token": "<ADMIN_TOKEN>"}', "invalid_json");
    }
    const parsed = signInBody.safeParse(raw);
    if (!parsed.success) throw new ApiError(400, `invalid body: ${describeIssues(parsed.error.issues)}`, "invalid_request", "token");
    const expected = c.env.ADMIN_TOKEN;
    if (!expected) throw new ApiError(401, "the admin API is disabled: ADMIN_TOKEN is not configured", "admin_disabled");
    if (!(await constantTimeEqual(parsed.data.token, expected))) throw new ApiError(401, "wrong admin token", "invalid_token");
    const now = nowSeconds();
    const session = await issueSession(expected, now);
    c.header("set-cookie", sessionCookie(session.value, session.expires - now, isHttps(c)));
    c.header("cache-control", "no-store");
    return c.json({ signedIn: true, expiresAt: new Date(session.expires * 1000).toISOString() }, 200);
  },
);

sessionRouter.get("/session", async (c) => {
  c.header("cache-control", "no-store");
  const value = readSessionCookie(c.req.header("cookie"), isHttps(c));
  const expected = c.env.ADMIN_TOKEN;
  const expires = value && expected ? await verifySession(value, expected, nowSeconds()) : null;
  // Asking is not an error: the dashboard asks on every load, signed in or not.
  if (expires === null) return c.json({ signedIn: false, expiresAt: null }, 200);
  return c.json({ signedIn: true, expiresAt: new Date(expires * 1000).toISOString() }, 200);
});

sessionRouter.delete("/session", (c) => {
  c.header("set-cookie", clearSessionCookie(isHttps(c)));
  c.header("cache-control", "no-store");
  return c.json({ signedIn: false }, 200);
});
