import { describe, expect, it } from "vitest";
import { call, json } from "./helpers";
import { covering, createSimAgent, waitFor } from "./evalHelpers";

const PROTOCOL_WAIT_MS = 55_000;

type ProtocolView = {
  status: string;
  error: string | null;
  run: { id: string; status: string; latestVersion: number } | null;
  evaluations: { id: string; datasetId: string; status: string; versions: number[]; summary: { questions: number; k: number } | null }[];
};

describe("the paper's protocol", () => {
  it("runs as one request: train on DAPO-100, then evaluate on AIME 2024 and 2025 (small overrides against the simulated model)", async () => {
    await createSimAgent("paper");
    expect((await call("POST", "/api/protocols/paper", { agent: "ghost" })).status).toBe(404);
    expect((await call("POST", "/api/protocols/paper", { agent: "paper", overrides: { k: 0 } })).status).toBe(400);
    const res = await call("POST", "/api/protocols/paper", { agent: "paper", overrides: { epochs: 1, groupSize: 2, maxGroupsInFlight: 100, k: 1, pollSeconds: 1 } });
    expect(res.status).toBe(201);
    const { id, runId } = await json<{ id: string; runId: string }>(res);
    const p = await waitFor("protocol", async () => json<ProtocolView>(await call("GET", `/api/protocols/${id}`)), (v) => v.status !== "running", PROTOCOL_WAIT_MS);
    expect(p.error).toBeNull();
    expect(p.status).toBe("completed");
    expect(p.run).toMatchObject({ id: runId, status: "completed" });
    expect(p.evaluations).toHaveLength(2);
    for (const e of p.evaluations) {
      expect(e.status).toBe("completed");
      expect(e.summary).toMatchObject({ questions: 30, k: 1 });
    }
    const datasets = await json<{ data: { name: string; sampleCount: number }[] }>(await call("GET", "/api/datasets"));
    expect(datasets.data.map((d) => [d.name, d.sampleCount])).toEqual(expect.arrayContaining([["dapo-100", 100], ["aime24", 30], ["aime25", 30]]));
   }, covering(0, PROTOCOL_WAIT_MS));
});
