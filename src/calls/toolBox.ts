import type { AgentRow } from "../db/agents";
import { envString } from "../shared/env";
import { QuickJsExecutor } from "../tools/code/quickjs";
import { loadWorkerdQuickJs } from "../tools/code/workerdModule";
import { buildToolBox, type ToolBox } from "../tools/dispatch";
import { toolListSchema, type ToolSpec } from "../tools/specs";

/** One sandbox backend per isolate; every call still gets a fresh QuickJS runtime. */
const executor = new QuickJsExecutor(loadWorkerdQuickJs);

/** The agent's stored tool specs (validated when stored; a row that no longer parses has none). */
export function agentTools(agent: Pick<AgentRow, "tools">): ToolSpec[] {
  const parsed = toolListSchema.safeParse(agent.tools);
  return parsed.success ? parsed.data : [];
}

/** The tools a run or evaluation offers its rollouts; null when there are none. */
export function toolBoxFor(env: Env, specs: readonly ToolSpec[]): ToolBox | null {
  if (specs.length === 0) return null;
  return buildToolBox(specs, { executor, secret: (name) => envString(env, name), fetch: (input, init) => fetch(input, init) });
}
