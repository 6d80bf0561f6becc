import { createRoute, z } from "@hono/zod-openapi";
import {
  groupSchema,
  listOf,
  queuedSchema,
  recoverySchema,
  rolloutSchema,
  runCreatedSchema,
  runSchema,
  runStorageSchema,
} from "../../contract";
import { partialHyperparamsSchema } from "../../core/hyperparams";
import { db } from "../../db/client";
import { findDataset } from "../../db/datasets";
import { findVersion } from "../../db/libraryVersions";
import { findRun, finishRun, listRuns } from "../../db/runs";
import { deleteFinishedRun } from "../../db/lifecycle";
import { listGroups, listRollouts } from "../../db/training";
import { textReader } from "../../db/texts";
import { runStorage } from "../../db/storage";
import { sweepTexts, TEXT_SWEEP_OBJECTS_PER_REQUEST } from "../../db/textSweeps";
import { recoverRun } from "../../recovery/recover";
import { badRequest, conflict, notFound } from "../../shared/errors";
import { runParamsSchema } from "../../training/context";
import { groupView } from "../../training/groupView";
import { runView } from "../../training/runView";
import { startRun } from "../../training/startRun";
import { newRouter } from "../router";
import { idempotent } from "./idempotency";
import { agentFilter, agentListQuery, errorResponses, jobErrorResponses, json, requireAgent, startJobError } from "./common";

const createRunSchema = partialHyperparamsSchema
  .extend({
    agent: z.string().min(1).max(200),
    dataset: z.string().min(1).max(200),
    seed: runParamsSchema.shape.seed.optional(),
    budgetTokens: z.number().int().positive().optional(),
    timeoutMs: runParamsSchema.shape.timeoutMs.optional(),
    fromVersion: z
      .number()
      .int()
      .min(0)
      .optional()
      .openapi({ description: "Warm start; default the agent's active version, or empty (0)." }),
    segmentBatches: z
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: "Batches per segment instance; default (and at most) as many as fit a segment's 2,000 steps" }),
  })
  .strict()
  .openapi("RunCreate");

const runParam = z.object({ run: z.string().min(1).max(100) });

export const runsRouter = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["runs"],
      request: { body: { ...json(createRunSchema), required: true } },
      responses: {
        201: { description: "Run created and queued, with its plan: its Workflow instances and their steps", ...json(runCreatedSchema) },
        ...jobErrorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const d = db(c.env.DB);
      const agent = await requireAgent(c.env, body.agent);
      const dataset = await findDataset(d, body.dataset);
      if (!dataset) throw notFound("dataset", body.dataset);
      if (dataset.sampleCount === 0) throw badRequest(`dataset '${dataset.name}' is empty`, "empty_dataset", "dataset");
      const fromVersion = body.fromVersion ?? agent.activeVersion ?? 0;
      if (fromVersion !== 0 && !(await findVersion(d, agent.id, fromVersion))) throw notFound("library version", String(fromVersion));
      const { agent: _a, dataset: _d, seed, budgetTokens, timeoutMs, fromVersion: _f, segmentBatches, ...overrides } = body;
      const started = await idempotent(c, "POST /api/runs", body, async () => {
        try {
          const run = await startRun(c.env, {
            agent,
            dataset,
            overrides,
            seed,
            budgetTokens,
            timeoutMs,
            fromVersion,
            segmentBatches,
            kind: "manual",
          });
          return { id: run.id, status: run.status, plan: run.plan };
        } catch (error) {
          throw startJobError(error, "training");
        }
      });
      return c.json(started, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["runs"],
      request: { query: agentListQuery },
      responses: { 200: { description: "Runs, newest first", ...json(listOf(runSchema)) }, ...errorResponses },
    }),
    async (c) => {
      const { agent: ref, limit } = c.req.valid("query");
      const agentId = await agentFilter(c.env, ref);
      const rows = await listRuns(db(c.env.DB), { agentId, limit });
      return c.json({ data: await Promise.all(rows.map((r) => runView(c.env, r))) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{run}",
      tags: ["runs"],
      request: { params: runParam },
      responses: { 200: { description: "Status, progress, metrics and usage", ...json(runSchema) }, ...errorResponses },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const run = await findRun(db(c.env.DB), id);
      if (!run) throw notFound("run", id);
      return c.json(await runView(c.env, run), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{run}/cancel",
      tags: ["runs"],
      request: { params: runParam },
      responses: { 200: { description: "Cancelled; versions already made are kept", ...json(queuedSchema) }, ...errorResponses },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const d = db(c.env.DB);
      const run = await findRun(d, id);
      if (!run) throw notFound("run", id);
      if (run.status !== "queued" && run.status !== "running") throw conflict(`run ${id} is already ${run.status}`, "run_finished");
      // The run stops at its next checkpoint; groups in flight see the flag and stop paying for calls.
      await finishRun(d, id, "cancelled", { reason: "cancelled by request" });
      return c.json({ id, status: "cancelled" }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{run}/recover",
      tags: ["runs"],
      request: { params: runParam },
      responses: {
        200: {
          description:
            "Recovered the run's Workflow instances: live ones nudged (pause, then resume), missing segment and lane instances created, ended ones restarted or their reports re-sent",
          ...json(recoverySchema),
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const run = await findRun(db(c.env.DB), id);
      if (!run) throw notFound("run", id);
      if (run.status !== "queued" && run.status !== "running") throw conflict(`run ${id} is already ${run.status}`, "run_finished");
      return c.json({ id, ...(await recoverRun(c.env, id)) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{run}/rollouts",
      tags: ["runs"],
      request: {
        params: runParam,
        query: z.object({
          epoch: z.coerce.number().int().min(1).optional(),
          batch: z.coerce.number().int().min(0).optional(),
          sample: z.coerce.number().int().min(0).optional(),
          offset: z.coerce.number().int().min(0).default(0),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
      responses: {
        200: { description: "Rollouts with prompt version, response, reward, critique and summary", ...json(listOf(rolloutSchema)) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const d = db(c.env.DB);
      if (!(await findRun(d, id))) throw notFound("run", id);
      return c.json({ data: await listRollouts(d, textReader(c.env), id, c.req.valid("query")) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{run}/storage",
      tags: ["runs"],
      summary: "What the run occupies: its D1 rows and inline text bytes, and its texts in R2 (objects and bytes)",
      request: { params: runParam },
      responses: { 200: { description: "Storage of the run", ...json(runStorageSchema) }, ...errorResponses },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const d = db(c.env.DB);
      const run = await findRun(d, id);
      if (!run) throw notFound("run", id);
      return c.json(await runStorage(d, c.env.TEXTS, run), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{run}",
      tags: ["runs"],
      summary:
        "Delete a finished run with its rollouts, groups, batches, LLM calls, gate evaluations, texts in R2 and scheduled snapshot (its library versions stay)",
      request: { params: runParam },
      responses: { 200: { description: "Deleted", ...json(z.object({ id: z.string(), deleted: z.literal(true) })) }, ...errorResponses },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const d = db(c.env.DB);
      const run = await findRun(d, id);
      if (!run) throw notFound("run", id);
      const prefixes = await deleteFinishedRun(d, id);
      if (!prefixes) {
        throw conflict(
          `run ${id} is ${run.status} or its gate evaluation is in progress; cancel it or wait for it to finish`,
          "run_in_progress",
        );
      }
      // The run's texts in R2 go now, up to a bound; the cron trigger deletes whatever is left.
      await sweepTexts(d, c.env.TEXTS, Date.now(), TEXT_SWEEP_OBJECTS_PER_REQUEST, prefixes);
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{run}/groups",
      tags: ["runs"],
      request: {
        params: runParam,
        query: z.object({
          epoch: z.coerce.number().int().min(1).optional(),
          batch: z.coerce.number().int().min(0).optional(),
          sample: z.coerce.number().int().min(0).optional(),
        }),
      },
      responses: {
        200: {
          description: "Group outcomes (at most 1,000): status, mean reward, advantage, experiences and proposed operations",
          ...json(listOf(groupSchema)),
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const d = db(c.env.DB);
      if (!(await findRun(d, id))) throw notFound("run", id);
      const texts = textReader(c.env);
      return c.json({ data: await Promise.all((await listGroups(d, id, c.req.valid("query"))).map((g) => groupView(texts, g))) }, 200);
    },
  );
