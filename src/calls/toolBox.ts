import type { AgentRow } from "../db/agents";
import { upstreamUrlProblem } from "../llm/urlPolicy";
import { ApiError } from "../shared/errors";
import { envString, isLocalDevelopment } from "../shared/env";
import { QuickJsExecutor } from "../tools/code/quickjs";
import { loadWorkerdQuickJs } from "../tools/code/workerdModule";
import { buildToolBox, mcpDeps, type ToolBox, type ToolDeps } from "../tools/dispatch";
import { McpToolError, resolveMcpTools } from "../tools/mcp";
import { CODE_TOOL_NAME, toolListSchema, type McpToolEntry, type ToolSpec } from "../tools/specs";

/** One sandbox backend per isolate; every call still gets a fresh QuickJS runtime. */
const executor = new QuickJsExecutor(loadWorkerdQuickJs);

/** The agent's stored tool specs (validated when stored; a row that no longer parses has none). */
export function agentTools(agent: Pick<AgentRow, "tools">): ToolSpec[] {
  const parsed = toolListSchema.safeParse(agent.tools);
  return parsed.success ? parsed.data : [];
}

/** Why a tool URL may not be used under this Worker's settings (the upstream URL policy), or null. */
export function toolUrlProblem(env: Env, url: string): string | null {
  return upstreamUrlProblem(url, isLocalDevelopment(env));
}

function toolDeps(env: Env): ToolDeps {
  return {
    executor,
    secret: (name) => envString(env, name),
    fetch: (input, init) => fetch(input, init),
    urlProblem: (url) => toolUrlProblem(env, url),
  };
}

/** The tools a run or evaluation offers its rollouts (its MCP tools as stored with it); null when none. */
export function toolBoxFor(env: Env, specs: readonly ToolSpec[], mcpTools: readonly McpToolEntry[] = []): ToolBox | null {
  if (specs.length === 0) return null;
  return buildToolBox(specs, toolDeps(env), mcpTools);
}

/**
 * Lists the tools of the specs' MCP servers, once, when a run or evaluation starts (stored with it).
 * Throws McpToolError naming the spec (`tools.<i>`) when a server cannot be used.
 */
async function listMcpTools(env: Env, specs: readonly ToolSpec[]): Promise<McpToolEntry[]> {
  const servers = specs.flatMap((spec, index) => (spec.type === "mcp" ? [{ spec, index }] : []));
  if (servers.length === 0) return [];
  for (const { spec, index } of servers) {
    const problem = toolUrlProblem(env, spec.url);
    if (problem) throw new McpToolError(`tools.${index}.url ${problem}`);
  }
  const taken = specs.flatMap((s) => (s.type === "http" ? [s.name] : s.type === "code" ? [CODE_TOOL_NAME] : []));
  return resolveMcpTools(servers, taken, mcpDeps(toolDeps(env)));
}

/** listMcpTools for a job being started: a server that cannot be used is a 502 naming the spec. */
export async function startMcpTools(env: Env, specs: readonly ToolSpec[]): Promise<McpToolEntry[]> {
  try {
    return await listMcpTools(env, specs);
  } catch (error) {
    if (!(error instanceof McpToolError)) throw error;
    const param = /^tools\.\d+(\.url)?/.exec(error.message)?.[0] ?? "tools";
    throw new ApiError(502, `cannot list the agent's MCP tools: ${error.message}`, "mcp_tools_unavailable", param);
  }
}
