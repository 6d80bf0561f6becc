import { describe, expect, it } from "vitest";
import { call, json } from "./helpers";
import { pct, waitForEvaluation, waitForRun, type EvaluationView } from "./evalHelpers";

/** The run and each of the two evaluations may take this long on a loaded 2-core machine. */
const TOOL_WAIT_MS = 150_000;

const TOOL_SYSTEM = "Answer exactly. You may run JavaScript with execute_code. Give the final answer in \\boxed{}.";

async function createToolAgent(name: string, tools: unknown[]): Promise<Response> {
  return call("POST", "/api/agents", {
    name,
    upstream: { baseUrl: "sim://local", model: "sim-1" },
    systemPrompt: TOOL_SYSTEM,
    objective: "Answer exact-arithmetic questions correctly, using the code tool well.",
    verifier: { kind: "math" },
    tools,
    maxTurns: 6,
  });
}

type Rollout = {
  rolloutIdx: number;
  response: string;
  reward: number;
  toolCalls: number;
  messages: { role: string; tool_calls?: { function: { name: string; arguments: string } }[]; content: string | null }[] | null;
  summary: string | null;
};

async function evaluate(agent: string, versions: (number | "none")[]): Promise<EvaluationView> {
  const res = await call("POST", "/api/evaluations", { agent, dataset: "sim-tools-test", versions, k: 4, temperature: 0.3, seed: 5 });
  expect(res.status, await res.clone().text()).toBe(201);
  return waitForEvaluation((await json<{ id: string }>(res)).id, TOOL_WAIT_MS);
}

describe("tool-using agents", () => {
  it("refuses invalid tool specs with 400 naming the field", async () => {
    const cases: [unknown[], RegExp][] = [
      [[{ type: "shell" }], /tools\.0\.type|tools\.0/],
      [[{ type: "http", name: "bad name!", url: "http://127.0.0.1:1/x" }], /tools\.0\.name/],
      [[{ type: "http", name: "lookup", url: "ftp://example.com" }], /tools\.0\.url/],
      [[{ type: "code", deadlineMs: 10 }], /tools\.0\.deadlineMs/],
      [[{ type: "code" }, { type: "code" }], /tools/],
    ];
    for (const [tools, param] of cases) {
      const res = await createToolAgent("bad-tools", tools);
      expect(res.status, JSON.stringify(tools)).toBe(400);
      const body = await json<{ error: { param: string | null; message: string } }>(res);
      expect(`${body.error.param} ${body.error.message}`, JSON.stringify(tools)).toMatch(param);
    }
  });

  it(
    "trains the code-tool agent: stored trajectories, tool calls per batch, held-out Mean@4 up ≥ 20 points, and beats no tools",
    async () => {
      expect((await createToolAgent("coder", [{ type: "code" }])).status).toBe(201);
      expect((await call("POST", "/api/datasets/builtin/sim-tools-train")).status).toBe(201);
      expect((await call("POST", "/api/datasets/builtin/sim-tools-test")).status).toBe(201);
      const created = await call("POST", "/api/runs", {
        agent: "coder",
        dataset: "sim-tools-train",
        epochs: 2,
        groupSize: 5,
        seed: 3,
        maxGroupsInFlight: 60,
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const { id } = await json<{ id: string }>(created);
      await waitForRun(id, TOOL_WAIT_MS);
      const run = await json<{
        status: string;
        error: string | null;
        latestVersion: number;
        batches: { avgToolCalls: number; meanAtG: number }[];
      }>(await call("GET", `/api/runs/${id}`));
      expect(run.error).toBeNull();
      expect(run.status).toBe("completed");
      expect(run.batches.length).toBe(2);
      for (const b of run.batches) expect(b.avgToolCalls).toBeGreaterThan(0);
      console.log(
        `batches: ${run.batches.map((b) => `Mean@5 ${pct(b.meanAtG)}%, ${b.avgToolCalls.toFixed(2)} tool calls/rollout`).join("; ")}`,
      );

      const rollouts = (await json<{ data: Rollout[] }>(await call("GET", `/api/runs/${id}/rollouts?epoch=1&limit=100`))).data;
      const withCode = rollouts.find((r) => r.toolCalls > 0 && r.summary !== null);
      expect(withCode).toBeDefined();
      const calls = withCode?.messages?.flatMap((m) => m.tool_calls ?? []) ?? [];
      expect(calls[0]?.function.name).toBe("execute_code");
      expect(withCode?.messages?.some((m) => m.role === "tool" && (m.content ?? "").includes("stdout"))).toBe(true);
      // The reflection saw the tool calls: the summary names the tool-use steps.
      expect(withCode?.summary).toMatch(/choose method|loop bounds|report result|exact integers/);

      const library = (
        await json<{ items: { text: string }[] }>(await call("GET", `/api/agents/coder/library/versions/${run.latestVersion}`))
      ).items;
      expect(library.length).toBeGreaterThan(0);
      const withTools = await evaluate("coder", [run.latestVersion, "none"]);
      expect(withTools.status, withTools.error ?? "").toBe("completed");
      const [trained, empty] = withTools.versions;
      expect(withTools.paired?.diff ?? 0).toBeGreaterThanOrEqual(0.2);

      // The same agent and library without tools.
      expect((await call("PATCH", "/api/agents/coder", { tools: [] })).status).toBe(200);
      const noTools = await evaluate("coder", [run.latestVersion]);
      const [plain] = noTools.versions;
      expect((trained?.meanAtK ?? 0) - (plain?.meanAtK ?? 1)).toBeGreaterThan(0.2);
      const fmt = (v: EvaluationView["versions"][number] | undefined) =>
        `${pct(v?.meanAtK ?? 0)}% [${pct(v?.ci95.low ?? 0)}, ${pct(v?.ci95.high ?? 0)}]`;
      console.log(
        `sim-tools-test Mean@4 (150 questions, T=0.3): trained ${fmt(trained)}, empty library ${fmt(empty)}, paired diff ${pct(withTools.paired?.diff ?? 0)} [${pct(withTools.paired?.ci95.low ?? 0)}, ${pct(withTools.paired?.ci95.high ?? 0)}]; trained library without tools ${fmt(plain)}; ${library.length} experiences: ${library.map((e) => e.text).join(" | ")}`,
      );
    },
    3 * TOOL_WAIT_MS + 60_000,
  );
});
