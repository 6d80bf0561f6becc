import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, json } from "./helpers";
import { covering, createSimAgent, waitFor } from "./evalHelpers";

const PROTOCOL_WAIT_MS = 55_000;

type ProtocolView = {
  status: string;
  params: { variant: string };
  error: string | null;
  run: { id: string; status: string; latestVersion: number } | null;
  evaluations: { id: string; datasetId: string; status: string; versions: number[]; summary: { questions: number; k: number } | null }[];
};

describe("the paper's protocol", () => {
  it(
    "runs as one request: train on DAPO-100, then evaluate on AIME 2024 and 2025 (small overrides against the simulated model)",
    async () => {
      await createSimAgent("paper");
      expect((await call("POST", "/api/protocols/paper", { agent: "ghost" })).status).toBe(404);
      expect((await call("POST", "/api/protocols/paper", { agent: "paper", overrides: { k: 0 } })).status).toBe(400);
      const res = await call("POST", "/api/protocols/paper", {
        agent: "paper",
        overrides: { epochs: 1, groupSize: 2, maxGroupsInFlight: 100, k: 1, pollSeconds: 1 },
      });
      expect(res.status).toBe(201);
      const { id, runId } = await json<{ id: string; runId: string }>(res);
      const p = await waitFor(
        "protocol",
        async () => json<ProtocolView>(await call("GET", `/api/protocols/${id}`)),
        (v) => v.status !== "running",
        PROTOCOL_WAIT_MS,
      );
      expect(p.error).toBeNull();
      expect(p.status).toBe("completed");
      expect(p.run).toMatchObject({ id: runId, status: "completed" });
      expect(p.params.variant).toBe("no-tools");
      expect(p.evaluations).toHaveLength(2);
      for (const e of p.evaluations) {
        expect(e.status).toBe("completed");
        expect(e.summary).toMatchObject({ questions: 30, k: 1 });
      }
      const datasets = await json<{ data: { name: string; sampleCount: number }[] }>(await call("GET", "/api/datasets"));
      expect(datasets.data.map((d) => [d.name, d.sampleCount])).toEqual(
        expect.arrayContaining([
          ["dapo-100", 100],
          ["aime24", 30],
          ["aime25", 30],
        ]),
      );
    },
    covering(0, PROTOCOL_WAIT_MS),
  );

  it(
    "runs the react-code variant: the run and both evaluations use the agent's code tool (and only it); no-tools strips them",
    async () => {
      const code = { type: "code", deadlineMs: 3000 };
      const created = await call("POST", "/api/agents", {
        name: "paper-coder",
        upstream: { baseUrl: "sim://local", model: "sim-1" },
        systemPrompt: "Solve it; answer in \\boxed{}.",
        verifier: { kind: "math" },
        tools: [{ type: "http", name: "lookup", url: "http://127.0.0.1:9/x" }, code],
        maxTurns: 3,
      });
      expect(created.status).toBe(201);
      expect((await call("POST", "/api/protocols/paper", { agent: "paper-coder", variant: "python" })).status).toBe(400);
      const res = await call("POST", "/api/protocols/paper", {
        agent: "paper-coder",
        variant: "react-code",
        overrides: { epochs: 1, groupSize: 1, maxGroupsInFlight: 100, k: 1, pollSeconds: 1 },
      });
      expect(res.status, await res.clone().text()).toBe(201);
      const { id, runId } = await json<{ id: string; runId: string }>(res);
      const p = await waitFor(
        "protocol",
        async () => json<ProtocolView>(await call("GET", `/api/protocols/${id}`)),
        (v) => v.status !== "running",
        PROTOCOL_WAIT_MS,
      );
      expect(p.error).toBeNull();
      expect(p.status).toBe("completed");
      expect(p.params.variant).toBe("react-code");
      const run = await json<{ params: { tools: unknown[]; maxTurns: number } }>(await call("GET", `/api/runs/${runId}`));
      expect(run.params.tools).toEqual([code]);
      expect(run.params.maxTurns).toBe(3);
      for (const e of p.evaluations) {
        const row = await env.DB.prepare("SELECT params FROM evaluations WHERE id = ?").bind(e.id).first<{ params: string }>();
        expect(JSON.parse(row?.params ?? "{}").tools).toEqual([code]);
      }
      // ReAct rollouts store their trajectory (plain rollouts store none).
      const rollouts = await json<{ data: { messages: unknown[] | null }[] }>(await call("GET", `/api/runs/${runId}/rollouts?limit=5`));
      expect(rollouts.data.every((r) => Array.isArray(r.messages))).toBe(true);

      const plain = await call("POST", "/api/protocols/paper", {
        agent: "paper-coder",
        variant: "no-tools",
        overrides: { epochs: 1, groupSize: 1, maxGroupsInFlight: 100, k: 1, pollSeconds: 1 },
      });
      expect(plain.status).toBe(201);
      const started = await json<{ id: string; runId: string }>(plain);
      const plainRun = await json<{ params: { tools: unknown[] } }>(await call("GET", `/api/runs/${started.runId}`));
      expect(plainRun.params.tools).toEqual([]);
      const done = await waitFor(
        "protocol",
        async () => json<ProtocolView>(await call("GET", `/api/protocols/${started.id}`)),
        (v) => v.status !== "running",
        PROTOCOL_WAIT_MS,
      );
      expect(done).toMatchObject({ status: "completed", params: { variant: "no-tools" } });
    },
    covering(0, 2 * PROTOCOL_WAIT_MS),
  );
});
