import { createRoute, z } from "@hono/zod-openapi";
import { db } from "../../db/client";
import { findEvaluation } from "../../db/evaluationRows";
import { findProtocol } from "../../db/protocols";
import { findRun } from "../../db/runs";
import { ApiError, notFound } from "../../shared/errors";
import { PAPER_PROTOCOL, protocolOverridesSchema, startPaperProtocol } from "../../protocol/paper";
import { newRouter } from "../router";
import { errorResponses, requireAgent } from "./common";

const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } } });
const protocolViewSchema = z.record(z.string(), z.unknown()).openapi("Protocol");

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
                overrides: protocolOverridesSchema.optional().openapi({ description: "Smaller settings for smoke tests; omit for the paper's" }),
              })
              .strict(),
          ),
          required: true,
        },
      },
      responses: { 201: { description: "Started", ...json(z.object({ id: z.string(), runId: z.string(), status: z.string() })) }, ...errorResponses },
    }),
    async (c) => {
      const { agent: ref, overrides } = c.req.valid("json");
      const agent = await requireAgent(c.env, ref);
      let protocol;
      try {
        protocol = await startPaperProtocol(c.env, agent, overrides ?? {});
      } catch (error) {
        throw new ApiError(503, `could not start the protocol: ${error instanceof Error ? error.message : "error"}`, "workflow_unavailable");
      }
      return c.json({ id: protocol.id, runId: protocol.runId, status: protocol.status }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{protocol}",
      tags: ["protocols"],
      request: { params: z.object({ protocol: z.string().min(1).max(100) }) },
      responses: { 200: { description: "Status, the run and the evaluations' figures", ...json(protocolViewSchema) }, ...errorResponses },
    }),
    async (c) => {
      const { protocol: id } = c.req.valid("param");
      const d = db(c.env.DB);
      const p = await findProtocol(d, id);
      if (!p) throw notFound("protocol", id);
      const run = await findRun(d, p.runId);
      const evaluations = await Promise.all(p.evaluationIds.map((e) => findEvaluation(d, e)));
      return c.json(
        {
          id: p.id,
          kind: p.kind,
          status: p.status,
          error: p.error,
          params: p.params,
          paper: PAPER_PROTOCOL,
          run: run ? { id: run.id, status: run.status, latestVersion: run.latestVersion } : null,
          evaluations: evaluations.filter((e) => e !== undefined).map((e) => ({ id: e.id, datasetId: e.datasetId, status: e.status, versions: e.versions, summary: e.summary })),
          createdAt: p.createdAt,
          updatedAt: p.updatedAt,
        },
        200,
      );
    },
  );
