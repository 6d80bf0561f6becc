import { createRoute, z } from "@hono/zod-openapi";
import { diffLibraries } from "../../core/diff";
import { renderLibrary } from "../../core/library";
import { db } from "../../db/client";
import { findVersion, listVersions, versionItems } from "../../db/libraryVersions";
import { notFound } from "../../shared/errors";
import { newRouter } from "../router";
import { libraryDiffSchema, libraryVersionListSchema, libraryVersionSchema } from "../../contract";
import { agentParam, errorResponses, json, requireAgent } from "./common";

/** Resolves a version number (0 = the empty library) or throws 404. */
async function requireItems(env: Env, agentId: string, version: number) {
  const d = db(env.DB);
  if (version !== 0 && !(await findVersion(d, agentId, version))) throw notFound("library version", String(version));
  return versionItems(d, agentId, version);
}

/** Mounted at /api/agents: an agent's immutable library versions. */
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
      const items = await requireItems(c.env, agent.id, version);
      return c.json({ version, items, rendered: renderLibrary(items) }, 200);
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
      const [a, b] = await Promise.all([requireItems(c.env, agent.id, from), requireItems(c.env, agent.id, to)]);
      return c.json({ from, to, ...diffLibraries(a, b) }, 200);
    },
  );
