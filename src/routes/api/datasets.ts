import { createRoute, z } from "@hono/zod-openapi";
import { DATASET_NAME, DATASET_NAME_RULE, MalformedBody, MAX_UPLOAD_BYTES, type UploadFormat } from "../../core/datasetRows";
import { BUILTIN_DATASETS, builtinChunks, countJsonlRows, findBuiltin } from "../../data/builtins";
import { db, type Db } from "../../db/client";
import {
  createDataset,
  deleteDataset,
  findDataset,
  listDatasets,
  runsUsingDataset,
  samplesPage,
  type CreateDatasetOutcome,
  type DatasetMeta,
  type DatasetRow,
  type SampleRecord,
} from "../../db/datasets";
import { activeRunCount } from "../../db/runs";
import { activeEvaluationCount } from "../../db/lifecycle";
import { ApiError, badRequest, conflict, notFound } from "../../shared/errors";
import { newRouter } from "../router";
import { builtinDatasetSchema, datasetSchema, errorSchema, listOf, sampleSchema, type Dataset, type Sample } from "../../contract";
import { errorResponses, json } from "./common";

/** Path segments under /api/datasets that are routes, so no data set may be named after them. */
const RESERVED_NAMES = new Set(["builtin"]);

const nameSchema = z
  .string()
  .regex(DATASET_NAME, DATASET_NAME_RULE)
  .refine((n) => !RESERVED_NAMES.has(n), "this name is reserved");

function datasetView(row: DatasetRow): Dataset {
  return {
    id: row.id,
    name: row.name,
    source: row.source,
    description: row.description,
    attribution: row.attribution,
    sampleCount: row.sampleCount,
    createdAt: row.createdAt,
  };
}

const sampleView = (s: SampleRecord): Sample => ({ idx: s.idx, id: s.sampleId, question: s.question, answer: s.answer, extras: s.extras });

async function requireDataset(d: Db, ref: string): Promise<DatasetRow> {
  const dataset = await findDataset(d, ref);
  if (!dataset) throw notFound("dataset", ref);
  return dataset;
}

const JSONL_TYPES = new Set(["application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines"]);

/** The upload format from Content-Type. */
function uploadFormat(contentType: string | undefined): UploadFormat {
  const essence = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (JSONL_TYPES.has(essence)) return "jsonl";
  if (essence === "application/json") return "json";
  throw new ApiError(
    415,
    `unsupported Content-Type '${essence || "(none)"}': send JSONL as application/x-ndjson (or application/jsonl), or a JSON array as application/json`,
    "unsupported_media_type",
  );
}

const tooLarge = () =>
  new ApiError(413, `upload larger than ${MAX_UPLOAD_BYTES} bytes (50 MB); split it into several data sets`, "payload_too_large");

/**
 * The request body as UTF-8 text, piece by piece, counting bytes as they arrive: more than the limit
 * is a 413 and bytes that are not UTF-8 a 400, whichever comes first. Reading stops at the first error.
 * (A TextDecoder in streaming mode is what TextDecoderStream wraps; using it directly keeps the byte count
 * and the decoding error attributable.)
 */
async function* decodeBody(body: ReadableStream<Uint8Array> | null, limit: number): AsyncGenerator<string> {
  if (!body) return;
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const reader = body.getReader();
  let bytes = 0;
  let finished = false;
  const decode = (chunk?: Uint8Array) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw badRequest(`the body is not valid UTF-8 (near byte ${bytes}); nothing was stored`, "invalid_encoding");
    }
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > limit) throw tooLarge();
      const text = decode(value);
      if (text) yield text;
    }
    finished = true;
    const tail = decode();
    if (tail) yield tail;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Runs the shared creation path and turns its outcome into a data set or an API error. */
async function create(d: Db, meta: DatasetMeta, format: UploadFormat, text: AsyncIterable<string>, nameHint = ""): Promise<DatasetRow> {
  let outcome: CreateDatasetOutcome;
  try {
    outcome = await createDataset(d, meta, format, text);
  } catch (e) {
    if (e instanceof MalformedBody) throw badRequest(`malformed JSON array: ${e.message}; nothing was stored`, "malformed_body");
    throw e;
  }
  if (outcome.ok) return outcome.dataset;
  switch (outcome.reason) {
    case "name_taken":
      throw conflict(`a dataset named '${meta.name}' already exists${nameHint}`, "name_taken");
    case "empty":
      throw badRequest("the upload has no rows; nothing was stored", "empty_upload");
    case "invalid_rows":
      throw badRequest(outcome.message, outcome.duplicatesOnly ? "duplicate_ids" : "invalid_rows");
  }
}

const datasetRef = z.object({ dataset: z.string().min(1).max(200).openapi({ description: "Dataset id or name" }) });
const uploadErrors = {
  ...errorResponses,
  413: { description: "Upload larger than 50 MB", ...json(errorSchema) },
  415: { description: "Unsupported Content-Type", ...json(errorSchema) },
} as const;

export const datasetsRouter = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/builtin",
      tags: ["datasets"],
      summary: "Data sets shipped with the service",
      responses: { 200: { description: "Built-in data sets", ...json(listOf(builtinDatasetSchema)) }, ...errorResponses },
    }),
    async (c) => {
      const d = db(c.env.DB);
      const loaded = new Map((await listDatasets(d)).map((r) => [r.name, r]));
      const data = BUILTIN_DATASETS.map((b) => {
        const row = loaded.get(b.name);
        return {
          name: b.name,
          description: b.description,
          attribution: b.attribution,
          rows: countJsonlRows(b.text()),
          loaded: row ? { id: row.id, name: row.name } : null,
        };
      });
      return c.json({ data }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/builtin/{builtin}",
      tags: ["datasets"],
      summary: "Load a built-in data set",
      request: {
        params: z.object({ builtin: z.string().min(1).max(100) }),
        query: z.object({ name: nameSchema.optional().openapi({ description: "Store it under this name instead of the built-in's" }) }),
      },
      responses: { 201: { description: "Loaded", ...json(datasetSchema) }, ...errorResponses },
    }),
    async (c) => {
      const { builtin } = c.req.valid("param");
      const b = findBuiltin(builtin);
      if (!b) throw notFound("builtin dataset", builtin);
      const name = c.req.valid("query").name ?? b.name;
      const meta: DatasetMeta = { name, source: "builtin", description: b.description, attribution: b.attribution };
      const row = await create(db(c.env.DB), meta, "jsonl", builtinChunks(b), "; pass ?name= to load it under another name");
      return c.json(datasetView(row), 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["datasets"],
      summary: "Upload a data set",
      description:
        "Body: JSONL (`application/x-ndjson` or `application/jsonl`) or a JSON array (`application/json`) of rows " +
        "`{id?, question, answer, ...extras}`, at most 50 MB. `question` is a non-empty string; `answer` a non-empty string or a number " +
        "(stored as a string); `id` a string or number (stored as a string), unique within the upload — a row without one gets its " +
        "1-based position among the rows. Other fields are kept as `extras`. Any invalid row rejects the whole upload (400, listing " +
        "the first 20 problems by line) and nothing is stored.",
      request: {
        query: z.object({
          name: nameSchema,
          description: z.string().max(2000).optional(),
        }),
        body: {
          required: true,
          content: {
            "application/x-ndjson": { schema: { type: "string", description: "One JSON object per line" } },
            "application/jsonl": { schema: { type: "string", description: "One JSON object per line" } },
            "application/json": { schema: { type: "array", items: { type: "object" } } },
          },
        },
      },
      responses: { 201: { description: "Created", ...json(datasetSchema) }, ...uploadErrors },
    }),
    async (c) => {
      const { name, description } = c.req.valid("query");
      const format = uploadFormat(c.req.header("content-type"));
      const declared = c.req.header("content-length");
      if (declared !== undefined && Number(declared) > MAX_UPLOAD_BYTES) throw tooLarge();
      // The name is checked (and reserved) before the body is read: createDataset claims it first.
      const row = await create(
        db(c.env.DB),
        { name, source: "upload", description: description ?? "", attribution: null },
        format,
        decodeBody(c.req.raw.body, MAX_UPLOAD_BYTES),
      );
      return c.json(datasetView(row), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["datasets"],
      summary: "All data sets with their sample counts",
      responses: { 200: { description: "All data sets", ...json(listOf(datasetSchema)) }, ...errorResponses },
    }),
    async (c) => c.json({ data: (await listDatasets(db(c.env.DB))).map(datasetView) }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{dataset}",
      tags: ["datasets"],
      request: { params: datasetRef },
      responses: { 200: { description: "The data set", ...json(datasetSchema) }, ...errorResponses },
    }),
    async (c) => c.json(datasetView(await requireDataset(db(c.env.DB), c.req.valid("param").dataset)), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{dataset}/samples",
      tags: ["datasets"],
      summary: "Samples in upload order, one page",
      request: {
        params: datasetRef,
        query: z.object({
          offset: z.coerce.number().int().min(0).default(0),
          limit: z.coerce.number().int().min(1).max(1000).default(50),
        }),
      },
      responses: {
        200: {
          description: "One page of samples",
          ...json(z.object({ data: z.array(sampleSchema), offset: z.number().int(), limit: z.number().int(), total: z.number().int() })),
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const d = db(c.env.DB);
      const dataset = await requireDataset(d, c.req.valid("param").dataset);
      const { offset, limit } = c.req.valid("query");
      const rows = await samplesPage(d, dataset.id, offset, limit);
      return c.json({ data: rows.map(sampleView), offset, limit, total: dataset.sampleCount }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{dataset}",
      tags: ["datasets"],
      request: { params: datasetRef },
      responses: {
        200: { description: "Deleted with its samples", ...json(z.object({ id: z.string(), deleted: z.literal(true) })) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const d = db(c.env.DB);
      const dataset = await requireDataset(d, c.req.valid("param").dataset);
      if ((await activeRunCount(d, { datasetId: dataset.id })) > 0) {
        throw conflict(`dataset '${dataset.name}' is used by a run in progress; cancel it first`, "run_in_progress");
      }
      if ((await activeEvaluationCount(d, { datasetId: dataset.id })) > 0) {
        throw conflict(`dataset '${dataset.name}' is used by an evaluation in progress; wait for it to finish`, "evaluation_in_progress");
      }
      const used = await runsUsingDataset(d, dataset.id);
      if (used > 0)
        throw conflict(
          `dataset '${dataset.name}' is referenced by ${used} finished run${used === 1 ? "" : "s"}; delete those runs first (DELETE /api/runs/{run})`,
          "dataset_in_use",
        );
      try {
        await deleteDataset(d, dataset.id);
      } catch (e) {
        // A run created between the checks and the delete makes the foreign key refuse it.
        if (e instanceof Error && /FOREIGN KEY/i.test(`${e.message} ${e.cause instanceof Error ? e.cause.message : ""}`)) {
          throw conflict(`dataset '${dataset.name}' is used by a run; cancel it first`, "run_in_progress");
        }
        throw e;
      }
      return c.json({ id: dataset.id, deleted: true as const }, 200);
    },
  );
