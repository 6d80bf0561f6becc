import { createRoute } from "@hono/zod-openapi";
import { keyCacheSize } from "../../serving/proxyAuth";
import { d1Counts, resetD1Counts } from "../../db/counting";
import { libraryCacheStats } from "../../serving/libraryCache";
import { usageLogStats } from "../../serving/usageLog";
import { newRouter } from "../router";
import { servingStatsSchema } from "../../contract";
import { errorResponses, json } from "./common";

const stats = () => ({ d1: d1Counts(), caches: { keys: keyCacheSize(), ...libraryCacheStats() }, usageLog: usageLogStats() });

/**
 * Mounted at /api/serving: per-isolate serving counters. `d1` counts only while the Worker runs with
 * `DEBUG_COUNT_D1=1` (the /v1 path then wraps its D1 binding with a counter).
 */
export const servingRouter = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/stats",
      tags: ["serving"],
      responses: { 200: { description: "Counters of the isolate that answered", ...json(servingStatsSchema) }, ...errorResponses },
    }),
    (c) => c.json(stats(), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/stats/reset",
      tags: ["serving"],
      responses: {
        200: { description: "D1 counters reset; the counters before the reset", ...json(servingStatsSchema) },
        ...errorResponses,
      },
    }),
    (c) => {
      const before = stats();
      resetD1Counts();
      return c.json(before, 200);
    },
  );
