import type { MiddlewareHandler } from "hono";
import { ApiError } from "../shared/errors";
import type { AppEnv } from "../shared/appEnv";
import { constantTimeEqual } from "./crypto";
import { admitSession } from "./sessionGuard";

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

/** Guards the admin API with the ADMIN_TOKEN Worker secret, sent as a Bearer token or exchanged for a dashboard session. */
export const adminAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  // The API description is public so tools can discover the API before holding a token.
  if (c.req.path === "/api/openapi.json") return next();
  const token = bearerToken(c.req.header("authorization"));
  if (!token && (await admitSession(c))) return next();
  if (!token) throw new ApiError(401, "missing admin token: send 'Authorization: Bearer <ADMIN_TOKEN>'", "missing_token");
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw new ApiError(401, "the admin API is disabled: ADMIN_TOKEN is not configured", "admin_disabled");
  if (!(await constantTimeEqual(token, expected))) throw new ApiError(401, "invalid admin token", "invalid_token");
  await next();
};
