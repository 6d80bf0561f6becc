/**
 * An agent whose upstream speaks Anthropic's Messages API trains, evaluates and uses tools through it
 * (llm/anthropic.ts translates at the edge). The simulated model answers both formats from one
 * pipeline, so the Anthropic agent must learn exactly what the OpenAI agent learns.
 */
import { describe, expect, it } from "vitest";
import type { Experience } from "../../src/core/library";
import { simDataset, simToolDataset } from "../../src/sim";
import { call, json } from "./helpers";
import { waitForRun } from "./evalHelpers";

const SYSTEM = "Solve the word problem step by step and give the final answer in \\boxed{}.";

async function createAgent(name: string, format: "openai" | "anthropic", extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/api/agents", {
    name,
    // An upstream that speaks only its own format: a call in the other one would fail the run.
    upstream: { baseUrl: `sim://local?api=${format}`, model: "sim-1", format },
    systemPrompt: SYSTEM,
    objective: "Answer arithmetic word problems exactly.",
    verifier: { kind: "math" },
    ...extra,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  expect((await json<{ upstream: { format: string } }>(res)).upstream.format).toBe(format);
}

const library = async (agent: string, version: number) =>
  (await json<{ items: Experience[] }>(await call("GET", `/api/agents/${agent}/library/versions/${version}`))).items.map((e) => ({
    id: e.id,
    name: e.name,
    text: e.text,
  }));

describe("an agent with an Anthropic upstream", () => {
  it("learns the same library as the same agent over the OpenAI format, item for item", async () => {
    await createAgent("oa", "openai");
    await createAgent("an", "anthropic");
    await call("POST", "/api/datasets?name=small", simDataset("sim-train").slice(0, 16));
    const settings = { dataset: "small", epochs: 1, groupSize: 4, seed: 11, maxGroupsInFlight: 16 };
    const [a, b] = await Promise.all(
      ["oa", "an"].map(async (agent) => json<{ id: string }>(await call("POST", "/api/runs", { agent, ...settings }))),
    );
    const [runA, runB] = await Promise.all([waitForRun(a!.id), waitForRun(b!.id)]);
    expect(runB.error).toBeNull();
    expect(runB.status).toBe("completed");
    const libA = await library("oa", runA.latestVersion);
    expect(libA.length).toBeGreaterThan(0);
    expect(await library("an", runB.latestVersion)).toEqual(libA);
  }, 240_000);

  it("runs tool-using rollouts through tool_use / tool_result", async () => {
    await createAgent("an-tools", "anthropic", {
      tools: [{ type: "code" }],
      maxTurns: 6,
      systemPrompt: "Answer exactly. You may run JavaScript with execute_code. Give the final answer in \\boxed{}.",
    });
    await call("POST", "/api/datasets?name=tools-small", simToolDataset("sim-tools-train").slice(0, 8));
    const created = await call("POST", "/api/runs", {
      agent: "an-tools",
      dataset: "tools-small",
      epochs: 1,
      groupSize: 3,
      seed: 3,
      maxGroupsInFlight: 8,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const run = await waitForRun((await json<{ id: string }>(created)).id);
    expect(run.error).toBeNull();
    const view = await json<{ batches: { avgToolCalls: number }[] }>(await call("GET", `/api/runs/${run.id}`));
    expect(view.batches[0]?.avgToolCalls).toBeGreaterThan(0);
  }, 240_000);
});
