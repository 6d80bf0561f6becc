import { createRoute, z } from "@hono/zod-openapi";
import { newId } from "../../shared/ids";
import { mintProxyKey } from "../../auth/proxyKeys";
import { db } from "../../db/client";
import { deleteKey, insertKey, listKeys, type ProxyKeyRow } from "../../db/keys";
import { notFound } from "../../shared/errors";
import { keyRevoked } from "../../serving/invalidate";
import { newRouter } from "../router";
import { listOf, mintedKeySchema, proxyKeySchema, type ProxyKey } from "../../contract";
import { isRateTier, RATE_TIER_VALUES } from "../../serving/keyLimits";
import { agentParam, errorResponses, json, requireAgent } from "./common";

const keyView = (k: ProxyKeyRow): ProxyKey => ({
  id: k.id,
  agentId: k.agentId,
  prefix: k.prefix,
  name: k.name,
  createdAt: k.createdAt,
  lastUsedAt: k.lastUsedAt,
  expiresAt: k.expiresAt,
  requestsPerMinute: k.requestsPerMinute,
  tokensPerDay: k.tokensPerDay,
});

const createKeySchema = z
  .object({
    name: z.string().max(100).optional(),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "The key is refused (401) from this instant on; absent: never expires" }),
    requestsPerMinute: z
      .number()
      .int()
      .refine(isRateTier, `must be one of ${RATE_TIER_VALUES.join(", ")} (the Rate Limiting binding tiers)`)
      .optional()
      .openapi({ description: `Requests per minute, one of ${RATE_TIER_VALUES.join(", ")}; absent: unlimited` }),
    tokensPerDay: z
      .number()
      .int()
      .min(1)
      .max(1e12)
      .optional()
      .openapi({ description: "Prompt + completion tokens per UTC day; absent: unlimited" }),
  })
  .strict();

/** Mounted at /api/agents/{agent}/keys. */
export const keysRouter = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/{agent}/keys",
      tags: ["keys"],
      request: {
        params: agentParam,
        body: { ...json(createKeySchema), required: false },
      },
      responses: {
        201: { description: "The key, shown only this once", ...json(mintedKeySchema) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const body = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : {};
      const minted = await mintProxyKey();
      const row = await insertKey(db(c.env.DB), {
        id: newId("key"),
        agentId: agent.id,
        prefix: minted.prefix,
        hash: minted.hash,
        name: body.name ?? null,
        expiresAt: body.expiresAt === undefined ? null : new Date(body.expiresAt).toISOString(),
        requestsPerMinute: body.requestsPerMinute ?? null,
        tokensPerDay: body.tokensPerDay ?? null,
      });
      return c.json({ ...keyView(row), key: minted.key }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{agent}/keys",
      tags: ["keys"],
      request: { params: agentParam },
      responses: { 200: { description: "The agent's keys (never the secret part)", ...json(listOf(proxyKeySchema)) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      return c.json({ data: (await listKeys(db(c.env.DB), agent.id)).map(keyView) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{agent}/keys/{key}",
      tags: ["keys"],
      request: { params: agentParam.extend({ key: z.string().min(1).max(100) }) },
      responses: { 200: { description: "Revoked", ...json(z.object({ id: z.string(), revoked: z.literal(true) })) }, ...errorResponses },
    }),
    async (c) => {
      const { agent: ref, key } = c.req.valid("param");
      const agent = await requireAgent(c.env, ref);
      if (!(await deleteKey(db(c.env.DB), agent.id, key))) throw notFound("key", key);
      keyRevoked(key);
      return c.json({ id: key, revoked: true as const }, 200);
    },
  );
