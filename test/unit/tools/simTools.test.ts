import { newQuickJSWASMModuleFromVariant } from "quickjs-emscripten-core";
import releaseSync from "@jitl/quickjs-wasmfile-release-sync";
import { describe, expect, it } from "vitest";
import { renderLibrary, type Experience } from "../../../src/core/library";
import { rolloutMessages } from "../../../src/core/rollout";
import { createSimulatedModel, sameAnswer, extractFinalAnswer, simToolDataset } from "../../../src/sim";
import { TOOL_PITFALLS } from "../../../src/sim/toolPitfalls";
import { QuickJsExecutor } from "../../../src/tools/code/quickjs";
import { buildToolBox } from "../../../src/tools/dispatch";
import { renderTrajectory, type TrajectoryMessage } from "../../../src/tools/messages";
import { runReact } from "../../../src/tools/react";
import { CODE_TOOL_NAME } from "../../../src/tools/specs";

const executor = new QuickJsExecutor(() => newQuickJSWASMModuleFromVariant(releaseSync));
const box = buildToolBox([{ type: "code" }], { executor, secret: () => undefined, fetch, urlProblem: () => null });
const sim = createSimulatedModel();
const SYSTEM = "Answer exactly. Give the final answer in \\boxed{}.";

async function rollout(question: string, library: Experience[], withTools: boolean, seed: number, temperature: number) {
  const messages = rolloutMessages({ systemPrompt: SYSTEM, injectPosition: "after" }, question, library) as TrajectoryMessage[];
  return runReact(messages, 6, {
    async turn(t, msgs) {
      const res = await sim.fetch(
        new Request("http://sim.local/chat/completions", {
          method: "POST",
          body: JSON.stringify({
            model: "sim-1",
            messages: msgs,
            temperature,
            seed: seed * 100 + t,
            ...(withTools ? { tools: box.functions } : {}),
          }),
        }),
      );
      const body = (await res.json()) as { choices: { message: { content: string | null; tool_calls?: TrajectoryMessage[] } }[] };
      const m = body.choices[0]?.message as { content: string | null; tool_calls?: never[] };
      return { content: m.content, toolCalls: m.tool_calls ?? [] };
    },
    execute: async (_t, _i, call) => (await box.call(call.function.name, call.function.arguments)).output,
  });
}

const GOOD: Experience[] = TOOL_PITFALLS.map((p, i) => ({
  id: `E${i + 1}`,
  name: p.experience.name,
  text: p.experience.text,
  provenance: [],
}));

async function accuracy(library: Experience[], withTools: boolean, n = 60) {
  const problems = simToolDataset("sim-tools-test").slice(0, n);
  let correct = 0;
  let calls = 0;
  for (const [i, p] of problems.entries()) {
    const out = await rollout(p.question, library, withTools, 1000 + i, 0.3);
    calls += out.toolCalls;
    if (sameAnswer(extractFinalAnswer(out.final) ?? "", p.answer)) correct += 1;
  }
  return { acc: correct / problems.length, calls: calls / problems.length };
}

describe("simulated model with the code tool", () => {
  it("data sets: exact answers, disjoint train and test", () => {
    const train = simToolDataset("sim-tools-train");
    const test = simToolDataset("sim-tools-test");
    expect(train).toHaveLength(60);
    expect(test).toHaveLength(150);
    const q = new Set(train.map((p) => p.question));
    expect(test.some((p) => q.has(p.question))).toBe(false);
    expect(simToolDataset("sim-tools-train")).toEqual(train);
  });

  it("calls execute_code, reads the real result, and is deterministic for a seed", async () => {
    const p = simToolDataset("sim-tools-test")[0]!;
    const a = await rollout(p.question, GOOD, true, 7, 0.3);
    const b = await rollout(p.question, GOOD, true, 7, 0.3);
    expect(a.messages).toEqual(b.messages);
    expect(a.toolCalls).toBe(1);
    const call =
      a.messages.find((m) => m.role === "assistant" && m.tool_calls)?.role === "assistant"
        ? a.messages.find((m) => m.role === "assistant" && m.tool_calls)
        : undefined;
    expect(call && call.role === "assistant" && call.tool_calls?.[0]?.function.name).toBe(CODE_TOOL_NAME);
    expect(a.final).toContain(`\\boxed{${p.answer}}`);
    const text = renderTrajectory(a.messages);
    expect(text).toMatch(/Tool call execute_code/);
    expect(text).toMatch(/Tool result: .*stdout/);
  });

  it("learns: good tool experiences beat the empty library, and both beat no tools", async () => {
    const empty = await accuracy([], true);
    const good = await accuracy(GOOD, true);
    const noTools = await accuracy(GOOD, false);
    expect(good.acc - empty.acc).toBeGreaterThan(0.25);
    expect(empty.acc).toBeGreaterThan(noTools.acc);
    expect(noTools.acc).toBeLessThan(0.05);
    expect(good.calls).toBeGreaterThan(empty.calls);
    console.log(
      `sim-tools-test (60 questions, T=0.3): empty ${empty.acc}, good ${good.acc}, no tools ${noTools.acc}; tool calls ${empty.calls} → ${good.calls}`,
    );
  }, 60_000);

  it("library text reaches the model only as experiences it can read", () => {
    expect(renderLibrary(GOOD)).toContain("console.log");
  });
});
