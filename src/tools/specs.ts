import { z } from "zod";

/** The name the built-in code tool has in every request (what the model calls). */
export const CODE_TOOL_NAME = "execute_code";

export const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const httpUrl = z
  .string()
  .max(2048)
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch {
      return false;
    }
  }, "must be an http(s) URL");
/**
 * Worker secrets a tool may name as `headerSecret`: only these, so the master secrets (ADMIN_TOKEN,
 * ENCRYPTION_KEY) and upstream keys can never be sent to a tool's URL (docs/tools.md, "Secrets").
 */
export const TOOL_SECRET_PREFIX = "TOOL_KEY_";
export const TOOL_SECRET_NAME = /^TOOL_KEY_[A-Z0-9_]{1,50}$/;
/** Name of a Worker secret whose value is sent as the `authorization` header of the tool's requests. */
const headerSecret = z.string().regex(TOOL_SECRET_NAME, `the name of a Worker secret starting with ${TOOL_SECRET_PREFIX} (A-Z, 0-9, _)`);

export const codeToolSpec = z
  .object({
    type: z.literal("code"),
    memoryBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .max(64 * 1024 * 1024)
      .optional(),
    deadlineMs: z.number().int().min(100).max(30_000).optional(),
    outputBytes: z
      .number()
      .int()
      .min(256)
      .max(256 * 1024)
      .optional(),
  })
  .strict();

export const httpToolSpec = z
  .object({
    type: z.literal("http"),
    name: z.string().regex(FUNCTION_NAME, "1-64 characters: letters, digits, '_' and '-'"),
    description: z.string().max(4000).default(""),
    parameters: z.record(z.string(), z.unknown()).default({ type: "object", properties: {} }),
    url: httpUrl,
    headerSecret: headerSecret.optional(),
    timeoutMs: z.number().int().min(100).max(60_000).optional(),
  })
  .strict();

/** Every tool (or the allowed ones) of a remote MCP server over Streamable HTTP (src/tools/mcp.ts). */
export const mcpToolSpec = z
  .object({
    type: z.literal("mcp"),
    url: httpUrl,
    allowedTools: z.array(z.string().regex(FUNCTION_NAME, "1-64 characters: letters, digits, '_' and '-'")).min(1).max(64).optional(),
    headerSecret: headerSecret.optional(),
    timeoutMs: z.number().int().min(100).max(60_000).optional(),
  })
  .strict();

export const toolSpecSchema = z.discriminatedUnion("type", [codeToolSpec, httpToolSpec, mcpToolSpec]);
export type ToolSpec = z.infer<typeof toolSpecSchema>;
export type CodeToolSpec = z.infer<typeof codeToolSpec>;
export type HttpToolSpec = z.infer<typeof httpToolSpec>;
export type McpToolSpec = z.infer<typeof mcpToolSpec>;

/**
 * One tool of an MCP server as listed when a run or evaluation started, stored with it (a replay
 * offers the same tools). `server` is the index of its `mcp` spec in the tool list.
 */
export const mcpToolEntrySchema = z.object({
  server: z.number().int().min(0),
  name: z.string().regex(FUNCTION_NAME),
  description: z.string().max(4000),
  parameters: z.record(z.string(), z.unknown()),
});
export type McpToolEntry = z.infer<typeof mcpToolEntrySchema>;
export const mcpToolListSchema = z.array(mcpToolEntrySchema).max(256);

export const toolListSchema = z
  .array(toolSpecSchema)
  .max(16)
  .refine((list) => list.filter((t) => t.type === "code").length <= 1, "at most one code tool")
  .refine((list) => {
    // MCP tools' names are known only once listed; resolveMcpTools checks them against these.
    const names = list.flatMap((t) => (t.type === "http" ? [t.name] : t.type === "code" ? [CODE_TOOL_NAME] : []));
    return new Set(names).size === names.length;
  }, "tool names must be unique");

export const MAX_TURNS_DEFAULT = 20;
export const maxTurnsSchema = z.number().int().min(1).max(50);

/** The code tool's function definition, as sent to the model. */
export const CODE_TOOL_FUNCTION = {
  name: CODE_TOOL_NAME,
  description:
    "Run JavaScript in a sandbox (QuickJS: ECMAScript with BigInt; no network, no timers, no modules). Print with console.log; the value of the last expression is returned as `result`.",
  parameters: {
    type: "object",
    properties: { code: { type: "string", description: "The JavaScript program to run." } },
    required: ["code"],
    additionalProperties: false,
  },
} as const;
