/**
 * Tools of a remote MCP server over Streamable HTTP, through the official SDK client
 * (docs/tools.md, "MCP tools"). The list is read once when a run or evaluation starts and stored with
 * it; each call opens its own session and closes it, so no connection outlives the call (a Worker
 * invocation has few connections, and a step's invocation may end at any time).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { clip } from "./code/quickjs";
import { HTTP_TOOL_MAX_BYTES, type ToolOutcome } from "./http";
import { FUNCTION_NAME, type McpToolEntry, type McpToolSpec } from "./specs";

export const MCP_DEFAULT_TIMEOUT_MS = 10_000;
/** Bytes of one MCP HTTP response read at most (the SDK parses whole bodies): larger replies fail. */
export const MCP_MAX_RESPONSE_BYTES = 1024 * 1024;
/** Tools offered from all MCP servers of one agent (OpenAI accepts 128 tools in all). */
export const MCP_MAX_TOOLS = 64;
/** Pages of `tools/list` read at most. */
const MAX_LIST_PAGES = 10;
const CLIENT_INFO = { name: "tfgrpo-edge", version: "1" };

export type McpDeps = {
  /** The value of the spec's `headerSecret`, or an error message when it cannot be used. */
  authorization(spec: McpToolSpec): { ok: true; value: string | null } | { ok: false; message: string };
  fetch: typeof fetch;
};

/** A body that errors once more than `cap` bytes have passed: the SDK never parses an unbounded reply. */
function capBody(response: Response, cap: number): Response {
  if (!response.body) return response;
  let seen = 0;
  const limited = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > cap) controller.error(new Error(`the MCP server's reply exceeds ${cap} bytes`));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(limited, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** Redirects are never followed (a tool URL that passed the URL policy must not lead elsewhere). */
function guardedFetch(send: typeof fetch): typeof fetch {
  return async (input, init) => capBody(await send(input, { ...init, redirect: "manual" }), MCP_MAX_RESPONSE_BYTES);
}

async function withClient<T>(spec: McpToolSpec, deps: McpDeps, signal: AbortSignal, use: (client: Client) => Promise<T>): Promise<T> {
  const auth = deps.authorization(spec);
  if (!auth.ok) throw new McpToolError(auth.message);
  const transport = new StreamableHTTPClientTransport(new URL(spec.url), {
    fetch: guardedFetch(deps.fetch),
    requestInit: { headers: auth.value ? { authorization: auth.value } : {}, signal },
  });
  const client = new Client(CLIENT_INFO, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  const timeout = spec.timeoutMs ?? MCP_DEFAULT_TIMEOUT_MS;
  try {
    await client.connect(transport, { timeout, signal });
    return await use(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** A fault the admin or the model should read (never contains a secret's value). */
export class McpToolError extends Error {}

function describe(error: unknown, spec: McpToolSpec, timeoutMs: number): string {
  if (error instanceof McpToolError) return error.message;
  const host = new URL(spec.url).host;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError" || /timed out|timeout/i.test(message))) {
    return `the MCP server at ${host} did not answer within ${timeoutMs} ms`;
  }
  // SDK messages name the HTTP status or the protocol fault; the URL's host is all we add.
  return `the MCP server at ${host} failed: ${message.slice(0, 300)}`;
}

/**
 * The tools of every `mcp` spec (only the allowed ones), as stored with a run. Throws McpToolError
 * naming the server when one cannot be listed, lacks an allowed tool, or offers a name that is not a
 * valid function name or is already taken.
 */
export async function resolveMcpTools(
  specs: readonly { spec: McpToolSpec; index: number }[],
  taken: readonly string[],
  deps: McpDeps,
): Promise<McpToolEntry[]> {
  const names = new Set(taken);
  const out: McpToolEntry[] = [];
  for (const { spec, index } of specs) {
    const timeoutMs = spec.timeoutMs ?? MCP_DEFAULT_TIMEOUT_MS;
    let listed: { name: string; description?: string; inputSchema: Record<string, unknown> }[];
    try {
      listed = await withClient(spec, deps, AbortSignal.timeout(timeoutMs * 2), async (client) => {
        const all: typeof listed = [];
        let cursor: string | undefined;
        for (let page = 0; page < MAX_LIST_PAGES; page++) {
          const res = await client.listTools(cursor ? { cursor } : undefined, { timeout: timeoutMs });
          all.push(...res.tools);
          cursor = res.nextCursor;
          if (!cursor) break;
        }
        return all;
      });
    } catch (error) {
      throw new McpToolError(`tools.${index}: ${describe(error, spec, timeoutMs)}`);
    }
    const allowed = spec.allowedTools ? new Set(spec.allowedTools) : null;
    for (const wanted of allowed ?? []) {
      if (!listed.some((t) => t.name === wanted))
        throw new McpToolError(`tools.${index}: the MCP server at ${new URL(spec.url).host} has no tool '${wanted}'`);
    }
    for (const tool of listed) {
      if (allowed && !allowed.has(tool.name)) continue;
      if (!FUNCTION_NAME.test(tool.name))
        throw new McpToolError(
          `tools.${index}: the MCP tool name '${tool.name.slice(0, 80)}' is not a valid function name; leave it out with allowedTools`,
        );
      if (names.has(tool.name)) throw new McpToolError(`tools.${index}: the MCP tool '${tool.name}' has the name of another tool`);
      names.add(tool.name);
      out.push({ server: index, name: tool.name, description: (tool.description ?? "").slice(0, 4000), parameters: tool.inputSchema });
    }
    if (out.length > MCP_MAX_TOOLS)
      throw new McpToolError(`tools.${index}: more than ${MCP_MAX_TOOLS} MCP tools; choose some with allowedTools`);
  }
  return out;
}

type CallResult = { content?: unknown; structuredContent?: unknown; isError?: unknown; toolResult?: unknown };

/** The allowlisted parts of a tool result as the tool message: text parts, else structured content. */
function resultText(result: CallResult): string {
  const parts = Array.isArray(result.content) ? (result.content as { type?: unknown; text?: unknown }[]) : [];
  const texts = parts.map((p) =>
    p.type === "text" && typeof p.text === "string" ? p.text : `[${typeof p.type === "string" ? p.type : "unknown"} content omitted]`,
  );
  if (texts.length > 0) return texts.join("\n");
  if (result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  if (result.toolResult !== undefined) return JSON.stringify(result.toolResult);
  return "";
}

/** One call of an MCP tool; every fault is an error result for the model, never an exception. */
export async function callMcpTool(spec: McpToolSpec, name: string, args: unknown, deps: McpDeps): Promise<ToolOutcome> {
  const timeoutMs = spec.timeoutMs ?? MCP_DEFAULT_TIMEOUT_MS;
  if (args === null || typeof args !== "object" || Array.isArray(args))
    return { output: JSON.stringify({ error: `the arguments of ${name} must be a JSON object` }), isError: true };
  try {
    // The whole call (session set-up included) is bounded by twice the per-request timeout.
    const result = (await withClient(spec, deps, AbortSignal.timeout(timeoutMs * 2), (client) =>
      client.callTool({ name, arguments: args as Record<string, unknown> }, undefined, { timeout: timeoutMs }),
    )) as CallResult;
    const text = resultText(result);
    const bytes = new TextEncoder().encode(text).length;
    const shown = bytes > HTTP_TOOL_MAX_BYTES ? `${clip(text, HTTP_TOOL_MAX_BYTES)}… [truncated]` : text;
    if (result.isError === true)
      return { output: JSON.stringify({ error: `tool ${name} reported an error`, detail: shown.slice(0, 2000) }), isError: true };
    return { output: shown, isError: false };
  } catch (error) {
    return { output: JSON.stringify({ error: `tool ${name}: ${describe(error, spec, timeoutMs)}` }), isError: true };
  }
}
