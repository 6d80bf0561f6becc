/**
 * How the simulated model picks a user's own tool (HTTP or MCP) for a sim-tools problem, as a model
 * reads tool definitions: a tool whose name or description says it does the computation the problem
 * needs, and whose parameters it can fill from the problem's numbers by their names. The result comes
 * from the tool; the model only reads it back (toolsRollout.ts).
 */
import type { ToolProblem } from "./toolsProblems";

export type OfferedTool = { name: string; description: string; parameters: Record<string, unknown> };
export type ChosenTool = { name: string; arguments: Record<string, number | string> };

/** What each problem needs, in the words a tool's name or description would use. */
const NEEDS: Record<ToolProblem["kind"], RegExp> = {
  power: /\b(power|powers|exponent|exponentiation|pow)\b/i,
  square_sum: /\b(sum of (the )?squares|squares? sum|sum_of_squares|square_sum)\b/i,
  divisible_count: /\b(divisible|divisibility|multiples)\b/i,
  range_product: /\b(product of (the )?(integers|range)|range product|range_product|factorial)\b/i,
};

/** Parameter names (lower case, letters only) a model would take to mean each of the problem's numbers. */
const ROLES: Record<string, readonly string[]> = {
  base: ["base", "x", "number"],
  exponent: ["exponent", "exp", "power", "n", "e"],
  start: ["start", "from", "first", "low", "lower", "min", "begin", "a"],
  end: ["end", "to", "last", "high", "upper", "max", "stop", "b"],
  divisorA: ["p", "divisora", "firstdivisor", "divisor", "d"],
  divisorB: ["q", "divisorb", "seconddivisor", "otherdivisor"],
};

function operands(x: ToolProblem): Record<string, number> {
  switch (x.kind) {
    case "power":
      return { base: x.a, exponent: x.b };
    case "divisible_count":
      return { start: x.a, end: x.b, divisorA: x.p, divisorB: x.q };
    default:
      return { start: x.a, end: x.b };
  }
}

/** The problem as one expression, for a tool that takes a single expression string. */
function expression(x: ToolProblem): string {
  switch (x.kind) {
    case "power":
      return `${x.a}^${x.b}`;
    case "square_sum":
      return `sum(i^2, i, ${x.a}, ${x.b})`;
    case "divisible_count":
      return `count(i, ${x.a}, ${x.b}, i mod ${x.p} = 0 or i mod ${x.q} = 0)`;
    case "range_product":
      return `product(i, i, ${x.a}, ${x.b})`;
  }
}

const letters = (s: string) => s.toLowerCase().replace(/[^a-z]/g, "");

/** Arguments for the tool's parameters, or null when a required one cannot be filled. */
function fill(x: ToolProblem, parameters: Record<string, unknown>): Record<string, number | string> | null {
  const props = (parameters.properties ?? {}) as Record<string, { type?: unknown }>;
  const names = Object.keys(props);
  if (names.length === 0) return null;
  const required = Array.isArray(parameters.required)
    ? (parameters.required as unknown[]).filter((r): r is string => typeof r === "string")
    : names;
  const values = operands(x);
  const used = new Set<string>();
  const args: Record<string, number | string> = {};
  let whole = false;
  for (const name of names) {
    const type = props[name]?.type;
    if (type === "string" && !whole && /^(expr|expression|query|input|formula)$/.test(letters(name))) {
      args[name] = expression(x);
      whole = true;
      continue;
    }
    if (type !== "integer" && type !== "number" && type !== "string") continue;
    const role = Object.keys(values).find((r) => !used.has(r) && (ROLES[r] ?? []).includes(letters(name)));
    if (!role) continue;
    used.add(role);
    const value = values[role] as number;
    args[name] = type === "string" ? String(value) : value;
  }
  // Every number of the problem must reach the tool, and every required parameter must be set.
  if (!whole && used.size < Object.keys(values).length) return null;
  return required.every((r) => r in args) ? args : null;
}

/** The first offered tool (in the order offered) that does what the problem needs and can be called. */
export function chooseTool(x: ToolProblem, tools: readonly OfferedTool[]): ChosenTool | null {
  for (const tool of tools) {
    if (!NEEDS[x.kind].test(`${tool.name.replace(/[_-]/g, " ")} ${tool.name} ${tool.description}`)) continue;
    const args = fill(x, tool.parameters);
    if (args) return { name: tool.name, arguments: args };
  }
  return null;
}
