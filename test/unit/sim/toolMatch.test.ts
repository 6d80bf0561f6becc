import { describe, expect, it } from "vitest";
import { chooseTool } from "../../../src/sim/toolMatch";
import { readToolValue, toolsReply } from "../../../src/sim/toolsRollout";
import { findToolProblem } from "../../../src/sim/toolsProblems";

const power = findToolProblem("Compute 15^18 exactly, giving every digit.")!;
const squares = findToolProblem("What is the sum of the squares of the integers from 3 to 40 inclusive?")!;
const divisible = findToolProblem("How many integers from 10 to 99 inclusive are divisible by 3 or by 7?")!;
const obj = (properties: Record<string, unknown>, required?: string[]) => ({
  type: "object",
  properties,
  ...(required ? { required } : {}),
});

describe("the simulated model picks a user's tool by its definition", () => {
  it("calls a tool whose name or description names the computation, filling its parameters by their names", () => {
    const powerTool = {
      name: "power",
      description: "Exact integer power",
      parameters: obj({ base: { type: "integer" }, exponent: { type: "integer" } }, ["base", "exponent"]),
    };
    const sumTool = { name: "sum_of_squares", description: "", parameters: obj({ from: { type: "integer" }, to: { type: "integer" } }) };
    expect(chooseTool(power, [sumTool, powerTool])).toEqual({ name: "power", arguments: { base: 15, exponent: 18 } });
    expect(chooseTool(squares, [powerTool, sumTool])).toEqual({ name: "sum_of_squares", arguments: { from: 3, to: 40 } });
    const counter = {
      name: "count",
      description: "Counts the integers in a range divisible by p or q",
      parameters: obj({ start: { type: "integer" }, end: { type: "integer" }, p: { type: "integer" }, q: { type: "integer" } }),
    };
    expect(chooseTool(divisible, [counter])).toEqual({ name: "count", arguments: { start: 10, end: 99, p: 3, q: 7 } });
    const calculator = {
      name: "calc",
      description: "Evaluates an expression with powers and big integers",
      parameters: obj({ expression: { type: "string" } }, ["expression"]),
    };
    expect(chooseTool(power, [calculator])).toEqual({ name: "calc", arguments: { expression: "15^18" } });
  });

  it("leaves alone a tool that does something else, or whose parameters it cannot fill", () => {
    expect(
      chooseTool(power, [{ name: "weather", description: "Current weather for a city", parameters: obj({ city: { type: "string" } }) }]),
    ).toBeNull();
    expect(
      chooseTool(power, [
        {
          name: "power",
          description: "Raise to a power",
          parameters: obj({ value: { type: "integer" }, mode: { type: "string" } }, ["value", "mode"]),
        },
      ]),
    ).toBeNull();
    // A tool that would not receive every number of the problem is not used.
    expect(
      chooseTool(divisible, [
        { name: "multiples", description: "Count multiples", parameters: obj({ start: { type: "integer" }, end: { type: "integer" } }) },
      ]),
    ).toBeNull();
  });

  it("calls the chosen tool, then answers with the value it returned (big integers read exactly)", () => {
    const tool = {
      name: "power",
      description: "Exact integer power",
      parameters: obj({ base: { type: "integer" }, exponent: { type: "integer" } }),
    };
    const question = "Compute 15^18 exactly, giving every digit.";
    const base = { lastUser: question, promptText: question, toolOffered: false, offered: [tool], temperature: 0.7, choice: 0 };
    let seed = 0;
    let first = toolsReply({ ...base, after: [], seed });
    while (!first?.toolCall) first = toolsReply({ ...base, after: [], seed: ++seed });
    expect(first.toolCall).toMatchObject({ name: "power", arguments: JSON.stringify({ base: 15, exponent: 18 }) });
    const exact = (15n ** 18n).toString();
    const answer = toolsReply({
      ...base,
      seed,
      after: [
        { role: "assistant", content: first.content ?? "" },
        { role: "tool", content: exact },
      ],
    });
    expect(answer?.content).toContain(`\\boxed{${exact}}`);
    expect(readToolValue(JSON.stringify({ value: exact })).value).toBe(exact);
    expect(readToolValue(JSON.stringify({ stdout: "1\n42\n", result: null, error: null, truncated: false })).value).toBe("42");
    expect(readToolValue(JSON.stringify({ error: "tool power: the MCP server failed" }))).toEqual({
      value: null,
      error: "tool power: the MCP server failed",
    });
  });
});
