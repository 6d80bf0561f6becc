import { createRoute } from "@hono/zod-openapi";
import { keyRing } from "../../auth/keyRing";
import { resealAgentKeys } from "../../auth/reseal";
import { db } from "../../db/client";
import { resealReportSchema } from "../../contract";
import { ApiError } from "../../shared/errors";
import { newRouter } from "../router";
import { errorResponses, json } from "./common";

/** Mounted at /api/maintenance: operations on the deployment itself. */
export const maintenanceRouter = newRouter().openapi(
  createRoute({
    method: "post",
    path: "/reseal-keys",
    tags: ["maintenance"],
    summary: "Re-encrypt every stored upstream key under the current ENCRYPTION_KEY (the key rotation step, docs/security.md)",
    responses: {
      200: { description: "What was re-encrypted", ...json(resealReportSchema) },
      ...errorResponses,
    },
  }),
  async (c) => {
    const ring = await keyRing(c.env);
    if (!ring) throw new ApiError(400, "ENCRYPTION_KEY is not configured: there is nothing to re-encrypt with", "encryption_unavailable");
    return c.json(await resealAgentKeys(db(c.env.DB), ring), 200);
  },
);
