import { createRoute, z } from "@hono/zod-openapi";
import { diffLibraries } from "../../core/diff";
import { renderLibrary, type Experience } from "../../core/library";
import { LIBRARY_FILE_FORMATS } from "../../core/libraryFile";
import { db } from "../../db/client";
import { findVersion, listVersions, versionItems, type LibraryVersionRow } from "../../db/libraryVersions";
import { createManualVersion } from "../../ownership/manualVersion";
import { exportVersion, importVersion } from "../../ownership/transfer";
import { notFound } from "../../shared/errors";
import { newRouter } from "../router";
import {
  libraryDiffSchema,
  libraryFileSchema,
  libraryVersionCreatedSchema,
  libraryVersionListSchema,
  libraryVersionSchema,
  type LibraryVersionCreated,
} from "../../contract";
import { agentParam, errorResponses, json, requireAgent } from "./common";

/** Resolves a version number (0 = the empty library) or throws 404. */
async function requireVersion(
  env: Env,
  agentId: string,
  version: number,
): Promise<{ meta: LibraryVersionRow | null; items: Experience[] }> {
  const d = db(env.DB);
  const meta = version === 0 ? null : ((await findVersion(d, agentId, version)) ?? null);
  if (version !== 0 && !meta) throw notFound("library version", String(version));
  return { meta, items: await versionItems(d, agentId, version) };
}

const created = (v: { row: LibraryVersionRow; items: Experience[]; warnings: string[] }): LibraryVersionCreated => ({
  version: v.row.version,
  meta: v.row,
  items: v.items,
  rendered: renderLibrary(v.items),
  warnings: v.warnings,
});

const itemId = z.string().regex(/^E\d+$/, "expected an item id like E3");
/** Bounds that only stop absurd input; the item rules themselves (src/core/library.ts) name the problem. */
const itemText = z.string().max(10_000);
const itemName = z.string().max(1_000);
const author = z.string().trim().min(1).max(200).openapi({ description: "Who makes the change (recorded on the version and its items)" });
const reason = z.string().trim().min(1).max(2000).openapi({ description: "Why (recorded on the version and its items)" });

const manualOperationSchema = z
  .discriminatedUnion("op", [
    z.object({ op: z.literal("add"), name: itemName.optional(), text: itemText }).strict(),
    z
      .object({ op: z.literal("edit"), id: itemId, name: itemName.optional(), text: itemText.optional() })
      .strict()
      .refine((o) => o.name !== undefined || o.text !== undefined, "an edit gives a new name, a new text, or both"),
    z.object({ op: z.literal("delete"), id: itemId }).strict(),
  ])
  .openapi("ManualOperation");

const manualVersionSchema = z
  .object({
    base: z.number().int().min(0).openapi({ description: "The version edited; 0 starts from the empty library" }),
    operations: z.array(manualOperationSchema).min(1).max(500),
    author,
    reason,
  })
  .strict()
  .openapi("ManualVersionCreate");

/** Mounted at /api/agents: an agent's immutable library versions, made by runs, by hand, or imported. */
export const libraryRouter = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{agent}/library/versions",
      tags: ["library"],
      request: { params: agentParam },
      responses: { 200: { description: "Versions, newest first", ...json(libraryVersionListSchema) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      return c.json({ active: agent.activeVersion, data: await listVersions(db(c.env.DB), agent.id) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{agent}/library/versions",
      tags: ["library"],
      summary: "Make a version by hand: add, edit and delete items of a base version",
      description:
        'Operations: `{op: "add", text, name?}` (a text without a name is split at a short "Name: " prefix, else named by its first words), ' +
        '`{op: "edit", id, text?, name?}`, `{op: "delete", id}`. Ids are the base version\'s stable ids; an added item takes the next id the ' +
        "agent never used. Every item is held to the agent's caps (maxExperiences, maxWordsPerExperience, 800 characters). The first problem " +
        "is answered with 400 and nothing is stored. The new version does not serve until promoted.",
      request: { params: agentParam, body: { ...json(manualVersionSchema), required: true } },
      responses: { 201: { description: "The new version", ...json(libraryVersionCreatedSchema) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const made = await createManualVersion(c.env, agent, c.req.valid("json"));
      return c.json(created(made), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{agent}/library/versions/{version}",
      tags: ["library"],
      request: { params: agentParam.extend({ version: z.coerce.number().int().min(0) }) },
      responses: {
        200: { description: "A version's items with provenance, and its rendering as served", ...json(libraryVersionSchema) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { agent: ref, version } = c.req.valid("param");
      const agent = await requireAgent(c.env, ref);
      const { meta, items } = await requireVersion(c.env, agent.id, version);
      return c.json({ version, meta, items, rendered: renderLibrary(items) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{agent}/library/{version}/export",
      tags: ["library"],
      summary: "Export a version as a file",
      request: {
        params: agentParam.extend({ version: z.coerce.number().int().min(1) }),
        query: z.object({
          format: z.enum(LIBRARY_FILE_FORMATS).default("native").openapi({
            description:
              'native: our JSON (format marker, ids, names, provenance, the model it was learned with); reference: the reference implementation\'s experiences.json, an object mapping id → "Name: text"',
          }),
        }),
      },
      responses: { 200: { description: "The file (also offered as a download)", ...json(libraryFileSchema) }, ...errorResponses },
    }),
    async (c) => {
      const { agent: ref, version } = c.req.valid("param");
      const { format } = c.req.valid("query");
      const agent = await requireAgent(c.env, ref);
      const file = await exportVersion(c.env, agent, version, format);
      c.header("content-disposition", `attachment; filename="${agent.name}-v${version}.${format}.json"`);
      return c.json(file, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{agent}/library/import",
      tags: ["library"],
      summary: "Import a version from a file (ours or the reference's experiences format)",
      description:
        "The body is the file itself (at most MAX_ADMIN_BODY_BYTES, 1 MiB by default). Refused with 400 naming the first problem, nothing stored: " +
        "not valid JSON, neither format, a duplicate id, an empty or over-long item, more items than the agent's cap. Ids of ours (E<n>) are kept " +
        'unless ids=renumber; other ids (the reference\'s "0", "1", …) get new ones, recorded in each item\'s provenance. The new version does not ' +
        "serve until promoted.",
      request: {
        params: agentParam,
        query: z.object({
          format: z
            .enum([...LIBRARY_FILE_FORMATS, "auto"])
            .default("auto")
            .openapi({ description: "auto: native if the file carries our format marker" }),
          author,
          reason,
          model: z.string().min(1).max(200).optional().openapi({
            description: "The model the library was learned with, when the file does not name it (default: the agent's current model)",
          }),
          ids: z.enum(["keep", "renumber"]).default("keep"),
        }),
        body: { required: true, content: { "application/json": { schema: { type: "object", description: "A library file" } } } },
      },
      responses: { 201: { description: "The new version", ...json(libraryVersionCreatedSchema) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const query = c.req.valid("query");
      // The admin body limit (src/routes/bodyLimit.ts) has already bounded what is read here.
      const text = await c.req.text();
      const made = await importVersion(c.env, agent, text, { ...query, renumber: query.ids === "renumber" });
      return c.json(created(made), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{agent}/library/diff",
      tags: ["library"],
      request: { params: agentParam, query: z.object({ from: z.coerce.number().int().min(0), to: z.coerce.number().int().min(0) }) },
      responses: {
        200: { description: "Added, updated (old → new) and deleted items with provenance", ...json(libraryDiffSchema) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const { from, to } = c.req.valid("query");
      const [a, b] = await Promise.all([requireVersion(c.env, agent.id, from), requireVersion(c.env, agent.id, to)]);
      return c.json({ from, to, ...diffLibraries(a.items, b.items) }, 200);
    },
  );
