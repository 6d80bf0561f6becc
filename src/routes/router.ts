import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "@hono/zod-openapi";
import { ApiError } from "../shared/errors";
import type { AppEnv } from "../shared/appEnv";

/** Formats zod issues as "field: reason; …" so a client can see every problem at once. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], limit = 20): string {
  return issues
    .slice(0, limit)
    .map((i) => `${i.path.length ? i.path.join(".") : "body"}: ${i.message}`)
    .join("; ");
}

/** A router whose validation failures become 400s in the OpenAI error shape. */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const first = result.error.issues[0];
        throw new ApiError(
          400,
          `invalid ${result.target}: ${describeIssues(result.error.issues)}`,
          "invalid_request",
          first?.path.join(".") || null,
        );
      }
    },
  });
}
