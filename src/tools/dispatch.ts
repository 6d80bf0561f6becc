import { DEFAULT_CODE_LIMITS, type CodeExecutor } from "./code/executor";
import { callHttpTool, type ToolOutcome } from "./http";
import { callMcpTool, type McpDeps } from "./mcp";
import type { FunctionTool } from "./messages";
import {
  CODE_TOOL_FUNCTION,
  CODE_TOOL_NAME,
  TOOL_SECRET_NAME,
  TOOL_SECRET_PREFIX,
  type CodeToolSpec,
  type HttpToolSpec,
  type McpToolEntry,
  type McpToolSpec,
  type ToolSpec,
} from "./specs";

/** The tools of one agent, ready to offer to the model and to run its calls. */
export type ToolBox = {
  functions: FunctionTool[];
  /** Runs one call; every fault (unknown tool, malformed arguments, a tool down) is an error result. */
  call(name: string, rawArguments: string): Promise<ToolOutcome>;
};

export type ToolDeps = {
  executor: CodeExecutor;
  /** A Worker secret by name (for `headerSecret`), or undefined when unset. */
  secret(name: string): string | undefined;
  fetch: typeof fetch;
  /** Why a tool URL may not be called now (the URL policy of src/llm/urlPolicy.ts), or null. */
  urlProblem(url: string): string | null;
};

const err = (message: string): ToolOutcome => ({ output: JSON.stringify({ error: message }), isError: true });

function parseArguments(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: raw.trim() === "" ? {} : JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

async function runCode(spec: CodeToolSpec, executor: CodeExecutor, args: unknown): Promise<ToolOutcome> {
  const code = (args as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return err(`${CODE_TOOL_NAME} needs {"code": "<JavaScript>"}`);
  const result = await executor.run(code, {
    memoryBytes: spec.memoryBytes ?? DEFAULT_CODE_LIMITS.memoryBytes,
    deadlineMs: spec.deadlineMs ?? DEFAULT_CODE_LIMITS.deadlineMs,
    outputBytes: spec.outputBytes ?? DEFAULT_CODE_LIMITS.outputBytes,
  });
  return { output: JSON.stringify(result), isError: result.error !== null };
}

/**
 * The `authorization` value of a tool's `headerSecret`. Checked again here (not only when stored) for
 * rows stored before the naming policy; the secret's name may be shown, its value never is.
 */
export function toolAuthorization(
  headerSecret: string | undefined,
  deps: Pick<ToolDeps, "secret">,
): { ok: true; value: string | null } | { ok: false; message: string } {
  if (!headerSecret) return { ok: true, value: null };
  if (!TOOL_SECRET_NAME.test(headerSecret))
    return { ok: false, message: `headerSecret must name a Worker secret starting with ${TOOL_SECRET_PREFIX}` };
  const value = deps.secret(headerSecret);
  if (value === undefined) return { ok: false, message: `the Worker secret ${headerSecret} is not set` };
  return { ok: true, value };
}

/** What MCP calls need from the tool box's dependencies (the URL policy is checked per call). */
export function mcpDeps(deps: Pick<ToolDeps, "secret" | "fetch">): McpDeps {
  return { authorization: (spec) => toolAuthorization(spec.headerSecret, deps), fetch: deps.fetch };
}

async function runHttp(spec: HttpToolSpec, deps: ToolDeps, args: unknown): Promise<ToolOutcome> {
  const problem = deps.urlProblem(spec.url);
  if (problem) return err(`tool ${spec.name}: its url ${problem}`);
  const auth = toolAuthorization(spec.headerSecret, deps);
  if (!auth.ok) return err(`tool ${spec.name}: ${auth.message}`);
  return callHttpTool(spec, args, auth.value, deps.fetch);
}

async function runMcp(spec: McpToolSpec, name: string, deps: ToolDeps, args: unknown): Promise<ToolOutcome> {
  const problem = deps.urlProblem(spec.url);
  if (problem) return err(`tool ${name}: its MCP server url ${problem}`);
  return callMcpTool(spec, name, args, mcpDeps(deps));
}

/**
 * The tool box for an agent's specs. MCP tools are the ones listed when the run or evaluation started
 * (`mcpTools`, stored with it), so a replay offers the same tools whatever the server lists now.
 */
export function buildToolBox(specs: readonly ToolSpec[], deps: ToolDeps, mcpTools: readonly McpToolEntry[] = []): ToolBox {
  const handlers = new Map<string, (args: unknown) => Promise<ToolOutcome>>();
  const functions: FunctionTool[] = [];
  for (const spec of specs) {
    if (spec.type === "code") {
      functions.push({ type: "function", function: { ...CODE_TOOL_FUNCTION } });
      handlers.set(CODE_TOOL_NAME, (args) => runCode(spec, deps.executor, args));
    } else if (spec.type === "http") {
      functions.push({ type: "function", function: { name: spec.name, description: spec.description, parameters: spec.parameters } });
      handlers.set(spec.name, (args) => runHttp(spec, deps, args));
    }
  }
  for (const entry of mcpTools) {
    const spec = specs[entry.server];
    if (spec?.type !== "mcp" || handlers.has(entry.name)) continue;
    functions.push({ type: "function", function: { name: entry.name, description: entry.description, parameters: entry.parameters } });
    handlers.set(entry.name, (args) => runMcp(spec, entry.name, deps, args));
  }
  return {
    functions,
    async call(name, rawArguments) {
      const handler = handlers.get(name);
      if (!handler) return err(`unknown tool '${name}'; the tools are: ${[...handlers.keys()].join(", ") || "none"}`);
      const args = parseArguments(rawArguments);
      if (!args.ok) return err(`the arguments of ${name} are not valid JSON`);
      return handler(args.value);
    },
  };
}
