import { createRoute, z } from "@hono/zod-openapi";
import { evaluationRecoverySchema, evaluationSchema, listOf, queuedSchema } from "../../contract";
import { defaultChunkSize } from "../../core/evaluationFigures";
import { seedSchema } from "../../core/hyperparams";
import { db } from "../../db/client";
import { findDataset } from "../../db/datasets";
import { findEvaluation, listEvaluations } from "../../db/evaluationRows";
import { findVersion } from "../../db/libraryVersions";
import { EVAL_DEFAULTS, startEvaluation } from "../../evaluation/evaluate";
import { startReplayEvaluation } from "../../evaluation/replay";
import { MAX_REPLAY_G, MAX_REPLAY_SAMPLE, REPLAY_DEFAULTS, REPLAY_JUDGES } from "../../core/replay";
import { evaluationView } from "../../evaluation/view";
import { recoverEvaluation } from "../../recovery/recover";
import { badRequest, conflict, notFound } from "../../shared/errors";
import { newId } from "../../shared/ids";
import { newRouter } from "../router";
import { idempotent } from "./idempotency";
import { agentFilter, agentListQuery, errorResponses, jobErrorResponses, json, requireAgent, startJobError } from "./common";

const versionRef = z
  .union([z.number().int().min(0), z.literal("none")])
  .openapi({ description: 'A library version; 0 or "none" is no library' });

const labelledEvaluationSchema = z
  .object({
    kind: z.literal("labelled").openapi({ description: "Mean@k on a labelled data set (the default)" }),
    agent: z.string().min(1).max(200),
    dataset: z.string().min(1).max(200),
    versions: z
      .array(versionRef)
      .min(1)
      .max(8)
      .openapi({ description: "Versions to evaluate; each is compared (paired) with the last one" }),
    k: z.number().int().min(1).max(64).default(EVAL_DEFAULTS.k),
    temperature: z.number().min(0).max(2).default(EVAL_DEFAULTS.temperature),
    seed: seedSchema.default(EVAL_DEFAULTS.seed),
    chunkSize: z.number().int().min(1).max(100).optional().openapi({ description: "Questions per child Workflow instance" }),
    maxChunksInFlight: z.number().int().min(1).max(100).optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
  })
  .strict();

const replayEvaluationSchema = z
  .object({
    kind: z.literal("replay").openapi({
      description:
        "Held-out captured requests of the agent replayed G times under each version and judged without labels (docs/ownership.md)",
    }),
    agent: z.string().min(1).max(200),
    versions: z.tuple([versionRef, versionRef]).openapi({ description: "[candidate, baseline]" }),
    sample: z
      .number()
      .int()
      .min(1)
      .max(MAX_REPLAY_SAMPLE)
      .default(REPLAY_DEFAULTS.sample)
      .openapi({ description: "Captured requests replayed" }),
    G: z.number().int().min(1).max(MAX_REPLAY_G).default(REPLAY_DEFAULTS.g).openapi({ description: "Answers per request and version" }),
    temperature: z.number().min(0).max(2).default(REPLAY_DEFAULTS.temperature),
    seed: seedSchema.default(EVAL_DEFAULTS.seed),
    judge: z.enum(REPLAY_JUDGES).default(REPLAY_DEFAULTS.judge).openapi({
      description: "critique: the 2G answers of a request scored against each other in one call; pairwise: a verdict per pair of answers",
    }),
    judgeModel: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "The model that judges: the agent's upstream model (default) or one of its allowedModels" }),
  })
  .strict();

/** A body without `kind` is a labelled evaluation (as before replay evaluations existed). */
const createEvaluationSchema = z
  .preprocess(
    (v) => (typeof v === "object" && v !== null && !Array.isArray(v) && !("kind" in v) ? { ...v, kind: "labelled" } : v),
    z.discriminatedUnion("kind", [labelledEvaluationSchema, replayEvaluationSchema]),
  )
  .openapi("EvaluationCreate");

const evalParam = z.object({ evaluation: z.string().min(1).max(200) });

export const evaluationsRouter = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["evaluations"],
      summary:
        "Evaluate library versions (Mean@k, Pass@k, bootstrap intervals, paired differences), on a labelled data set or by replaying captured traffic",
      request: { body: { ...json(createEvaluationSchema), required: true } },
      responses: { 201: { description: "Evaluation created and queued", ...json(queuedSchema) }, ...jobErrorResponses },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const d = db(c.env.DB);
      const agent = await requireAgent(c.env, body.agent);
      const versions = [...new Set(body.versions.map((v) => (v === "none" ? 0 : v)))];
      for (const v of versions) if (v !== 0 && !(await findVersion(d, agent.id, v))) throw notFound("library version", String(v));
      if (body.kind === "replay") {
        const [candidate, baseline] = body.versions.map((v) => (v === "none" ? 0 : v)) as [number, number];
        if (candidate === baseline) throw badRequest("a replay compares two different versions", "same_versions", "versions");
        const allowed = [agent.upstreamModel, ...agent.allowedModels];
        if (body.judgeModel !== undefined && !allowed.includes(body.judgeModel)) {
          throw badRequest(
            `judgeModel must be the agent's upstream model or one of its allowedModels (${allowed.join(", ")})`,
            "invalid_judge_model",
            "judgeModel",
          );
        }
        const started = await idempotent(c, "POST /api/evaluations", body, async () => {
          try {
            const row = await startReplayEvaluation(c.env, {
              id: newId("eval"),
              agent,
              versions: [candidate, baseline],
              sample: body.sample,
              g: body.G,
              temperature: body.temperature,
              seed: body.seed,
              judge: body.judge,
              judgeModel: body.judgeModel ?? null,
              purpose: "manual",
              nowIso: new Date().toISOString(),
            });
            return { id: row.id, status: row.status };
          } catch (error) {
            throw startJobError(error, "evaluation");
          }
        });
        return c.json(started, 201);
      }
      const dataset = await findDataset(d, body.dataset);
      if (!dataset) throw notFound("dataset", body.dataset);
      if (dataset.sampleCount === 0) throw badRequest(`dataset '${dataset.name}' is empty`, "empty_dataset", "dataset");
      const started = await idempotent(c, "POST /api/evaluations", body, async () => {
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
          return { id: row.id, status: row.status };
        } catch (error) {
          throw startJobError(error, "evaluation");
        }
      });
      return c.json(started, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["evaluations"],
      request: { query: agentListQuery },
      responses: { 200: { description: "Evaluations, newest first", ...json(listOf(evaluationSchema)) }, ...errorResponses },
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
      responses: { 200: { description: "Status, progress and figures per version", ...json(evaluationSchema) }, ...errorResponses },
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
          ...json(evaluationRecoverySchema),
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
