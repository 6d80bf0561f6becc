import { createRoute, z } from "@hono/zod-openapi";
import { newId } from "../../auth/crypto";
import { defaultChunkSize, versionLabel } from "../../core/evaluation";
import { db } from "../../db/client";
import { findDataset } from "../../db/datasets";
import { evaluationScoreRows, findEvaluation, listEvaluations, scoredCounts, type EvaluationRow } from "../../db/evaluations";
import { findVersion } from "../../db/libraryVersions";
import { samplesPage } from "../../db/datasets";
import { ApiError, badRequest, conflict, notFound } from "../../errors";
import { EVAL_DEFAULTS, evalParamsSchema, evaluationTokens, startEvaluation } from "../../training/evaluate";
import { recoverEvaluation } from "../../training/recover";
import { newRouter } from "../router";
import { agentFilter, agentListQuery, errorResponses, requireAgent } from "./common";

const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } } });
const versionRef = z
  .union([z.number().int().min(0), z.literal("none")])
  .openapi({ description: 'A library version; 0 or "none" is no library' });

const createEvaluationSchema = z
  .object({
    agent: z.string().min(1).max(200),
    dataset: z.string().min(1).max(200),
    versions: z
      .array(versionRef)
      .min(1)
      .max(8)
      .openapi({ description: "Versions to evaluate; each is compared (paired) with the last one" }),
    k: z.number().int().min(1).max(64).default(EVAL_DEFAULTS.k),
    temperature: z.number().min(0).max(2).default(EVAL_DEFAULTS.temperature),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(EVAL_DEFAULTS.seed),
    chunkSize: z.number().int().min(1).max(100).optional().openapi({ description: "Questions per child Workflow instance" }),
    maxChunksInFlight: z.number().int().min(1).max(100).optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
  })
  .strict()
  .openapi("EvaluationCreate");

const evaluationViewSchema = z.record(z.string(), z.unknown()).openapi("Evaluation");
const evalParam = z.object({ evaluation: z.string().min(1).max(200) });

async function evaluationView(env: Env, e: EvaluationRow, detail: { offset: number; limit: number } | null) {
  const d = db(env.DB);
  const params = evalParamsSchema.parse(e.params);
  const [counts, tokens] = await Promise.all([scoredCounts(d, e.id), evaluationTokens(d, e)]);
  const figures = e.summary;
  const view: Record<string, unknown> = {
    id: e.id,
    agentId: e.agentId,
    datasetId: e.datasetId,
    purpose: e.purpose,
    runId: e.runId,
    status: e.status,
    error: e.error,
    params: {
      k: params.k,
      temperature: params.temperature,
      seed: params.seed,
      chunkSize: params.chunkSize,
      maxChunksInFlight: params.maxChunksInFlight,
    },
    versions: e.versions.map((v) => {
      const f = figures?.versions.find((x) => x.version === v);
      return {
        version: v,
        label: versionLabel(v),
        questionsDone: counts.get(v) ?? 0,
        meanAtK: f?.meanAtK ?? null,
        passAtK: f?.passAtK ?? null,
        ci95: f?.ci ?? null,
        tokens: tokens[String(v)] ?? null,
      };
    }),
    progress: {
      questions: params.samples,
      scored: e.versions.reduce((n, v) => n + (counts.get(v) ?? 0), 0),
      total: params.samples * e.versions.length,
    },
    comparisons: figures?.comparisons.map((c) => ({ version: c.version, against: c.against, diff: c.diff, ci95: c.ci })) ?? [],
    paired: figures && figures.comparisons.length === 1 ? { ...figures.comparisons[0], ci95: figures.comparisons[0]?.ci } : null,
    questions: figures?.questions ?? null,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
  if (detail) {
    const rows = await evaluationScoreRows(d, e.id, { ...detail, versions: e.versions.length });
    const ids = new Map((await samplesPage(d, e.datasetId, detail.offset, detail.limit)).map((s) => [s.idx, s.sampleId]));
    const byQuestion = new Map<number, Record<string, number[]>>();
    for (const r of rows) {
      const entry = byQuestion.get(r.sampleIdx) ?? {};
      entry[versionLabel(r.version)] = r.rewards;
      byQuestion.set(r.sampleIdx, entry);
    }
    view.perQuestion = [...byQuestion].map(([idx, rewards]) => ({ idx, sampleId: ids.get(idx) ?? null, rewards }));
  }
  return view;
}

export const evaluationsRouter = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["evaluations"],
      summary: "Evaluate library versions (Mean@k, Pass@k, bootstrap intervals, paired differences)",
      request: { body: { ...json(createEvaluationSchema), required: true } },
      responses: {
        201: { description: "Evaluation created and queued", ...json(z.object({ id: z.string(), status: z.string() })) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const d = db(c.env.DB);
      const agent = await requireAgent(c.env, body.agent);
      const dataset = await findDataset(d, body.dataset);
      if (!dataset) throw notFound("dataset", body.dataset);
      if (dataset.sampleCount === 0) throw badRequest(`dataset '${dataset.name}' is empty`, "empty_dataset", "dataset");
      const versions = [...new Set(body.versions.map((v) => (v === "none" ? 0 : v)))];
      for (const v of versions) if (v !== 0 && !(await findVersion(d, agent.id, v))) throw notFound("library version", String(v));
      try {
        const row = await startEvaluation(
          c.env,
          {
            id: newId("eval"),
            agent,
            dataset,
            versions,
            k: body.k,
            temperature: body.temperature,
            seed: body.seed,
            purpose: "manual",
            chunkSize: body.chunkSize,
            maxChunksInFlight: body.maxChunksInFlight,
            timeoutMs: body.timeoutMs,
          },
          defaultChunkSize,
        );
        return c.json({ id: row.id, status: row.status }, 201);
      } catch {
        throw new ApiError(503, "could not start the evaluation Workflow; try again", "workflow_unavailable");
      }
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["evaluations"],
      request: { query: agentListQuery },
      responses: {
        200: { description: "Evaluations, newest first", ...json(z.object({ data: z.array(evaluationViewSchema) })) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { agent: ref, limit } = c.req.valid("query");
      const agentId = await agentFilter(c.env, ref);
      const rows = await listEvaluations(db(c.env.DB), { agentId, limit });
      return c.json({ data: await Promise.all(rows.map((e) => evaluationView(c.env, e, null))) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{evaluation}",
      tags: ["evaluations"],
      request: {
        params: evalParam,
        query: z.object({
          detail: z.enum(["0", "1"]).optional().openapi({ description: "1: include per-question rewards (paged by offset/limit)" }),
          offset: z.coerce.number().int().min(0).default(0),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
      responses: { 200: { description: "Status, progress and figures per version", ...json(evaluationViewSchema) }, ...errorResponses },
    }),
    async (c) => {
      const { evaluation: id } = c.req.valid("param");
      const { detail, offset, limit } = c.req.valid("query");
      const e = await findEvaluation(db(c.env.DB), id);
      if (!e) throw notFound("evaluation", id);
      return c.json(await evaluationView(c.env, e, detail === "1" ? { offset, limit } : null), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{evaluation}/recover",
      tags: ["evaluations"],
      request: { params: evalParam },
      responses: {
        200: {
          description:
            "Recovered the evaluation's Workflow instances: live ones nudged (pause, then resume), missing chunk instances created, ended ones restarted or their reports re-sent",
          ...json(
            z.object({
              id: z.string(),
              evaluation: z.string(),
              chunks: z.number(),
              reports: z.number(),
              recreated: z.number(),
              restarted: z.number(),
            }),
          ),
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { evaluation: id } = c.req.valid("param");
      const e = await findEvaluation(db(c.env.DB), id);
      if (!e) throw notFound("evaluation", id);
      if (e.status !== "queued" && e.status !== "running") throw conflict(`evaluation ${id} is already ${e.status}`, "evaluation_finished");
      return c.json({ id, ...(await recoverEvaluation(c.env, id)) }, 200);
    },
  );
