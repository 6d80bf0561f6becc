import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "../../shared/errors";
import { PROTOCOL_VARIANTS, protocolOverridesSchema, startPaperProtocol } from "../../protocol/paper";
import { newRouter } from "../router";
import { idempotent } from "./idempotency";
import { protocolSchema, protocolStartedSchema } from "../../contract";
import { protocolView } from "../../protocol/view";
import { errorResponses, jobErrorResponses, json, requireAgent, startJobError } from "./common";

export const protocolsRouter = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/paper",
      tags: ["protocols"],
      summary: "The paper's protocol: train on DAPO-100, then evaluate library vs none on AIME 2024 and 2025 (Mean@32, T=0.3)",
      request: {
        body: {
          ...json(
            z
              .object({
                agent: z.string().min(1).max(200),
                overrides: protocolOverridesSchema
                  .optional()
                  .openapi({ description: "Smaller settings for smoke tests; omit for the paper's" }),
                variant: z.enum(PROTOCOL_VARIANTS).optional().openapi({
                  description: "react-code: the agent with the code tool (the paper's headline); no-tools (default): plain chat rollouts",
                }),
              })
              .strict(),
          ),
          required: true,
        },
      },
      responses: { 201: { description: "Started", ...json(protocolStartedSchema) }, ...jobErrorResponses },
    }),
    async (c) => {
      const { agent: ref, overrides, variant } = c.req.valid("json");
      const agent = await requireAgent(c.env, ref);
      const started = await idempotent(c, "POST /api/protocols/paper", { agent: ref, overrides, variant }, async () => {
        try {
          const protocol = await startPaperProtocol(c.env, agent, overrides ?? {}, variant ?? "no-tools");
          return { id: protocol.id, runId: protocol.runId, status: protocol.status };
        } catch (error) {
          throw startJobError(error, "protocol");
        }
      });
      return c.json(started, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{protocol}",
      tags: ["protocols"],
      request: { params: z.object({ protocol: z.string().min(1).max(100) }) },
      responses: { 200: { description: "Status, the run and the evaluations' figures", ...json(protocolSchema) }, ...errorResponses },
    }),
    async (c) => {
      const { protocol: id } = c.req.valid("param");
      const view = await protocolView(c.env, id);
      if (!view) throw notFound("protocol", id);
      return c.json(view, 200);
    },
  );
