import { createRoute, z } from "@hono/zod-openapi";
import { db } from "../../db/client";
import { RECOVERIES_PER_CALL, recoverStalled } from "../../training/recoverStalled";
import { newRouter } from "../router";
import { errorResponses } from "./common";

const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } } });

const recoveredSchema = z.object({ kind: z.enum(["run", "evaluation"]), id: z.string(), action: z.string() });

/**
 * Recovery of everything stalled at once (DESIGN §4), what the cron trigger does after
 * STALE_RUN_MINUTES; `npm start` calls it with 0 right after bringing the local stack up again, when
 * every run and evaluation still marked queued or running has stopped.
 */
export const recoveryRouter = newRouter().openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["runs", "evaluations"],
    summary: "Recover every queued or running run and evaluation without progress for the given time",
    request: {
      body: {
        ...json(
          z
            .object({
              olderThanSeconds: z
                .number()
                .int()
                .min(0)
                .max(30 * 86_400)
                .openapi({ description: "No progress for at least this long (0: everything queued or running)" }),
              limit: z
                .number()
                .int()
                .min(1)
                .max(100)
                .default(RECOVERIES_PER_CALL)
                .openapi({ description: "At most this many runs, and as many evaluations" }),
            })
            .strict(),
        ),
        required: true,
      },
    },
    responses: { 200: { description: "What was done to each", ...json(z.object({ data: z.array(recoveredSchema) })) }, ...errorResponses },
  }),
  async (c) => {
    const { olderThanSeconds, limit } = c.req.valid("json");
    const before = new Date(Date.now() - olderThanSeconds * 1000).toISOString();
    const data = await recoverStalled(
      c.env,
      db(c.env.DB),
      before,
      `recovery requested: no progress for ${olderThanSeconds} s or more`,
      limit,
    );
    return c.json({ data }, 200);
  },
);
