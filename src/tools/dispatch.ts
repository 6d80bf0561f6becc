import { DEFAULT_CODE_LIMITS, type CodeExecutor } from "./code/executor";
import { callHttpTool, type ToolOutcome } from "./http";
import type { FunctionTool } from "./messages";
import { CODE_TOOL_FUNCTION, CODE_TOOL_NAME, type CodeToolSpec, type HttpToolSpec, type ToolSpec } from "./specs";

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

async function runHttp(spec: HttpToolSpec, deps: ToolDeps, args: unknown): Promise<ToolOutcome> {
  let authorization: string | null = null;
  if (spec.headerSecret) {
    const value = deps.secret(spec.headerSecret);
    // The secret's name may be shown; its value never is.
    if (value === undefined) return err(`tool ${spec.name} needs the Worker secret ${spec.headerSecret}, which is not set`);
    authorization = value;
  }
  return callHttpTool(spec, args, authorization, deps.fetch);
}

/** The tool box for code and HTTP specs; MCP tools come resolved from the run (mcp.ts). */
export function buildToolBox(specs: readonly ToolSpec[], deps: ToolDeps, extra: ToolBox | null = null): ToolBox {
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
  const extraNames = new Set(extra?.functions.map((f) => f.function.name) ?? []);
  return {
    functions: [...functions, ...(extra?.functions ?? [])],
    async call(name, rawArguments) {
      const handler = handlers.get(name);
      if (!handler && !extraNames.has(name)) {
        const known = [...handlers.keys(), ...extraNames].join(", ");
        return err(`unknown tool '${name}'; the tools are: ${known || "none"}`);
      }
      const args = parseArguments(rawArguments);
      if (!args.ok) return err(`the arguments of ${name} are not valid JSON`);
      if (handler) return handler(args.value);
      return (extra as ToolBox).call(name, rawArguments);
    },
  };
}
