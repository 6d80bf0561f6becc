/**
 * How the simulated model uses the `execute_code` tool on sim-tools problems: it decides (per pitfall,
 * erring with a probability that an addressing experience lowers) whether to call the tool, how to bound
 * its loop, whether to use BigInt and whether to print; it writes that code as an OpenAI tool call, then
 * reads the tool's real result and answers with it. Its reasoning lines show each choice, so summaries
 * see where it went wrong.
 */
import { addressedPitfalls } from "./experienceMatch";
import { errorProbability, pitfallById } from "./pitfalls";
import { hashHex, unitFromKey } from "./rng";
import { CODE_TOOL_NAME } from "../tools/specs";
import { findToolProblem, TOOL_PROBLEM_PITFALLS, type ToolProblem } from "./toolsProblems";
import type { ToolPitfallId } from "./toolPitfalls";
import { chooseTool, type OfferedTool } from "./toolMatch";
import type { ChoiceOut } from "./wire";

export type ToolTurnInput = {
  lastUser: string;
  promptText: string;
  /** Messages after the last user message (assistant tool calls and tool results of this rollout). */
  after: readonly { role: string; content: string }[];
  toolOffered: boolean;
  /** The other tools offered (the user's HTTP and MCP tools), as their definitions read. */
  offered: readonly OfferedTool[];
  temperature: number;
  seed: number;
  choice: number;
};

/** Rough mental arithmetic: plausible, and wrong for these problems. */
export function estimate(x: ToolProblem): string {
  switch (x.kind) {
    case "power":
      return (x.a ** x.b).toPrecision(8);
    case "square_sum":
      return String(Math.round((x.b ** 3 - x.a ** 3) / 3));
    case "divisible_count":
      return String(Math.floor((x.b - x.a) / x.p) + Math.floor((x.b - x.a) / x.q));
    case "range_product": {
      let s = 1;
      for (let i = x.a; i <= x.b; i++) s *= i;
      return s.toPrecision(8);
    }
  }
}

type Choices = { loopWrong: boolean; bigWrong: boolean; printWrong: boolean };

export function writeCode(x: ToolProblem, c: Choices): string {
  const cmp = c.loopWrong ? "<" : "<=";
  let body: string;
  switch (x.kind) {
    case "power":
      body = c.bigWrong ? `  return ${x.a} ** ${x.b};` : `  return ${x.a}n ** ${x.b}n;`;
      break;
    case "square_sum":
      body = `  let total = 0;\n  for (let i = ${x.a}; i ${cmp} ${x.b}; i++) total += i * i;\n  return total;`;
      break;
    case "divisible_count":
      body = `  let count = 0;\n  for (let i = ${x.a}; i ${cmp} ${x.b}; i++) if (i % ${x.p} === 0 || i % ${x.q} === 0) count++;\n  return count;`;
      break;
    case "range_product":
      body = c.bigWrong
        ? `  let total = 1;\n  for (let i = ${x.a}; i ${cmp} ${x.b}; i++) total *= i;\n  return total;`
        : `  let total = 1n;\n  for (let i = ${x.a}; i ${cmp} ${x.b}; i++) total *= BigInt(i);\n  return total;`;
      break;
  }
  const report = c.printWrong ? "const answer = solve();" : "console.log(String(solve()));";
  return `function solve() {\n${body}\n}\n${report}`;
}

/**
 * What the model reads off a tool message: from execute_code the last printed line, else the returned
 * value; from another tool its `value`/`result`/`answer` field, or its text when that is one number.
 */
export function readToolValue(content: string): { value: string | null; error: string | null } {
  // A bare number is read as written (JSON.parse would round a big integer).
  const text = content.trim();
  if (/^-?[\d.]+(e[+-]?\d+)?$/i.test(text)) return { value: text, error: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return { value: null, error: "the tool result was not readable" };
  }
  if (typeof parsed === "number" || typeof parsed === "string") return { value: String(parsed), error: null };
  if (!parsed || typeof parsed !== "object") return { value: null, error: "the tool result was not readable" };
  const o = parsed as { stdout?: unknown; result?: unknown; error?: unknown; value?: unknown; answer?: unknown };
  const error = typeof o.error === "string" ? o.error : null;
  if ("stdout" in o || "result" in o) {
    const lines =
      typeof o.stdout === "string"
        ? o.stdout
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "")
        : [];
    const value = lines[lines.length - 1] ?? (typeof o.result === "string" || typeof o.result === "number" ? String(o.result) : null);
    return { value, error };
  }
  const field = [o.value, o.answer].find((v) => typeof v === "string" || typeof v === "number");
  return { value: field === undefined ? null : String(field), error };
}

/** The reply to a sim-tools problem, or null when the text is not one. */
export function toolsReply(input: ToolTurnInput): ChoiceOut | null {
  const x = findToolProblem(input.lastUser);
  if (!x) return null;
  const question = input.lastUser;
  const lastTool = [...input.after].reverse().find((m) => m.role === "tool");
  if (lastTool) {
    const { value, error } = readToolValue(lastTool.content);
    if (value !== null && /^-?[\d.]+(e[+-]?\d+)?$/i.test(value)) {
      return {
        content: `Step 5 (read result): the tool printed ${value}.\nSo the answer is \\boxed{${value}}.`,
        toolCall: null,
        finish: "stop",
      };
    }
    const why = error ? `failed (${error.slice(0, 120)})` : "returned no value";
    return {
      content: `Step 5 (read result): the code ${why}, so I estimate the result mentally instead, ${estimate(x)}.\nSo the answer is \\boxed{${estimate(x)}}.`,
      toolCall: null,
      finish: "stop",
    };
  }
  const addressed = addressedPitfalls(input.promptText.split(question).join("\n"));
  const errs = (id: ToolPitfallId): boolean => {
    const draw = unitFromKey("tool-err", input.seed, question, input.temperature, input.choice, id);
    return draw < errorProbability(pitfallById(id), input.temperature, addressed.has(id));
  };
  const applying = (id: ToolPitfallId): string =>
    addressed.has(id) ? (addressed.get(id) ? `, applying [${addressed.get(id)}]` : ", applying the given experience") : "";
  const line = (n: number, id: ToolPitfallId, wrong: boolean): string => {
    const p = pitfallById(id);
    return `Step ${n} (${p.stepLabel})${applying(id)}: ${wrong ? p.wrongMethod : p.rightMethod}.`;
  };
  const pitfalls = TOOL_PROBLEM_PITFALLS[x.kind];
  // A tool made for exactly this computation is preferred over writing code.
  const chosen = chooseTool(x, input.offered);
  if ((!input.toolOffered && !chosen) || errs("use_code_tool")) {
    return {
      content: `${line(1, "use_code_tool", true)} My estimate is ${estimate(x)}.\nSo the answer is \\boxed{${estimate(x)}}.`,
      toolCall: null,
      finish: "stop",
    };
  }
  if (chosen) {
    return {
      content: `Step 1 (choose method)${applying("use_code_tool")}: calling the ${chosen.name} tool, which computes this exactly, instead of estimating.`,
      toolCall: {
        id: `call_${hashHex("tool", input.seed, question, input.choice, chosen.name).slice(0, 12)}`,
        name: chosen.name,
        arguments: JSON.stringify(chosen.arguments),
      },
      finish: "tool_calls",
    };
  }
  const choices: Choices = {
    loopWrong: pitfalls.includes("inclusive_loop") && errs("inclusive_loop"),
    bigWrong: pitfalls.includes("bigint_exact") && errs("bigint_exact"),
    printWrong: errs("print_result"),
  };
  const lines = [line(1, "use_code_tool", false)];
  if (pitfalls.includes("inclusive_loop")) lines.push(line(lines.length + 1, "inclusive_loop", choices.loopWrong));
  if (pitfalls.includes("bigint_exact")) lines.push(line(lines.length + 1, "bigint_exact", choices.bigWrong));
  lines.push(line(lines.length + 1, "print_result", choices.printWrong));
  const code = writeCode(x, choices);
  return {
    content: lines.join("\n"),
    toolCall: {
      id: `call_${hashHex("code", input.seed, question, input.choice).slice(0, 12)}`,
      name: CODE_TOOL_NAME,
      arguments: JSON.stringify({ code }),
    },
    finish: "tool_calls",
  };
}

/**
 * After a `call tool <name> {…}` request was answered by the tool: the model reports what the tool
 * returned (its first number, boxed), so tests can see a tool result flow into the scored answer.
 */
export function answerFromTool(after: readonly { role: string; content: string }[]): ChoiceOut | null {
  const lastTool = [...after].reverse().find((m) => m.role === "tool");
  if (!lastTool) return null;
  const number = /-?\d+(?:\.\d+)?/.exec(lastTool.content)?.[0];
  const shown = lastTool.content.length > 400 ? `${lastTool.content.slice(0, 400)}…` : lastTool.content;
  return {
    content: `The tool returned: ${shown}\nSo the answer is \\boxed{${number ?? "unknown"}}.`,
    toolCall: null,
    finish: "stop",
  };
}
