import { createRoute, z } from "@hono/zod-openapi";
import { newId } from "../../shared/ids";
import { db } from "../../db/client";
import { findVersion } from "../../db/libraryVersions";
import { listPromotions, promote, type PromotionRow } from "../../db/promotions";
import { notFound } from "../../shared/errors";
import { agentChanged } from "../../serving/invalidate";
import { settleCanary } from "../../promotion/canary";
import { promotionWarnings } from "../../promotion/warnings";
import { newRouter } from "../router";
import { promotionListSchema, promotionSchema, type Promotion } from "../../contract";
import { agentParam, errorResponses, json, requireAgent } from "./common";

const view = (p: PromotionRow): Promotion => ({ ...p, figures: p.figures ?? null, warnings: p.warnings ?? [] });

/** Mounted at /api/agents: manual promotion (and rollback), and the record of every decision. */
export const promotionsRouter = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/{agent}/promote",
      tags: ["promotions"],
      summary: "Serve a library version (manual promotion or rollback; 0 or null serves no library)",
      description:
        "The decision records (and answers with) warnings, e.g. when the version was learned with another model than the agent serves; it is promoted all the same.",
      request: {
        params: agentParam,
        body: {
          ...json(z.object({ version: z.number().int().min(0).nullable(), reason: z.string().max(2000).optional() }).strict()),
          required: true,
        },
      },
      responses: { 200: { description: "The recorded decision", ...json(promotionSchema) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const { version, reason } = c.req.valid("json");
      const d = db(c.env.DB);
      const to = version === 0 ? null : version;
      if (to !== null && !(await findVersion(d, agent.id, to))) throw notFound("library version", String(to));
      const stored = await promote(
        d,
        {
          id: newId("prm"),
          agentId: agent.id,
          decidedBy: "manual",
          fromVersion: agent.activeVersion,
          toVersion: to,
          reason: reason ?? (to === null ? "serve no library" : `serve version ${to}`),
          warnings: await promotionWarnings(d, agent, to),
        },
        false,
      );
      agentChanged(agent.id);
      // A running canary compared its candidate with the version just replaced: it ends, recorded.
      await settleCanary(c.env, agent.id, "by hand");
      return c.json(view(stored), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{agent}/promotions",
      tags: ["promotions"],
      request: { params: agentParam, query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }) },
      responses: { 200: { description: "Decisions, newest first", ...json(promotionListSchema) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const rows = await listPromotions(db(c.env.DB), agent.id, c.req.valid("query").limit);
      return c.json({ active: agent.activeVersion, data: rows.map(view) }, 200);
    },
  );
