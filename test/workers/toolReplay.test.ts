import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callContextFor } from "../../src/calls/callContext";
import { reactRollout } from "../../src/calls/reactRollout";
import { toolBoxFor } from "../../src/calls/toolBox";
import { findAgentByName } from "../../src/db/agents";
import { db } from "../../src/db/client";
import type { TrajectoryMessage } from "../../src/tools/messages";
import { call } from "./helpers";

const QUESTION = "What is the sum of the squares of the integers from 3 to 40 inclusive?";

/** Marks the first tool calls of a rollout as found by a replay: started (running) or started twice (retried). */
async function preset(owner: string, key: string, state: "running" | "retried"): Promise<void> {
  for (let t = 0; t < 4; t++) {
    await env.DB.prepare("INSERT INTO tool_results (owner_id, call_key, tool, state) VALUES (?, ?, 'execute_code', ?)")
      .bind(owner, `${key}/t${t}/c0`, state)
      .run();
  }
}

describe("a tool call whose invocation died", () => {
  it("runs once more when a replay finds it started (a restart), and gives up with an error the second time", async () => {
    expect(
      (
        await call("POST", "/api/agents", {
          name: "replayer",
          upstream: { baseUrl: "sim://local", model: "sim-1" },
          tools: [{ type: "code" }],
        })
      ).status,
    ).toBe(201);
    const d = db(env.DB);
    const agent = await findAgentByName(d, "replayer");
    if (!agent) throw new Error("agent missing");
    const owner = "run_replay_test";
    const ctx = await callContextFor(env, d, agent, owner, 5000);
    const tools = toolBoxFor(env, [{ type: "code" }]);
    if (!tools) throw new Error("no tools");
    const messages: TrajectoryMessage[] = [{ role: "user", content: QUESTION }];
    const rollout = (key: string, seed: number) => reactRollout(ctx, { key, messages, maxTurns: 4, temperature: 0.3, seed, tools });
    const toolMessages = (m: TrajectoryMessage[]) => m.filter((x) => x.role === "tool").map((x) => x.content);

    // A seed whose rollout calls the tool.
    let seed = 1;
    let fresh = await rollout(`fresh/${seed}`, seed);
    while (toolMessages(fresh.messages).length === 0) {
      seed++;
      fresh = await rollout(`fresh/${seed}`, seed);
    }
    const want = toolMessages(fresh.messages);
    expect(JSON.parse(want[0] ?? "{}")).toMatchObject({ error: null });

    await preset(owner, "restarted", "running");
    const restarted = await rollout("restarted", seed);
    expect(toolMessages(restarted.messages)).toEqual(want);
    const row = await env.DB.prepare("SELECT state FROM tool_results WHERE owner_id = ? AND call_key = 'restarted/t0/c0'")
      .bind(owner)
      .first<{ state: string }>();
    expect(row?.state).toBe("done");

    await preset(owner, "died-twice", "retried");
    const died = await rollout("died-twice", seed);
    expect(JSON.parse(toolMessages(died.messages)[0] ?? "{}").error).toMatch(/did not finish twice/);
  });
});
