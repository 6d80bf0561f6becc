import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runScheduled, MAX_RECOVERIES_PER_TICK } from "../../src/cron/scheduled";
import { db } from "../../src/db/client";
import { applyRetention } from "../../src/db/lifecycle";
import { flushUsage, recordUsage } from "../../src/serving/usageLog";
import { updateBatch } from "../../src/training/batch";
import { loadRunContext } from "../../src/training/context";
import { call, expectErrorShape, json } from "./helpers";
import { createSimAgent, uploadSlice, waitForRun } from "./evalHelpers";

/** Issue 16, "Integrity and reliability". */

const rows = async <T>(query: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...binds)
      .all<T>()
  ).results;
const count = async (query: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...binds)
      .first<{ n: number }>()
  )?.n ?? 0;

let downRequests = 0;
const realFetch = globalThis.fetch;
beforeAll(async () => {
  // An upstream that refuses every key.
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (!request.url.startsWith("https://down.example/")) return realFetch(input, init);
    downRequests++;
    return Response.json(
      { error: { message: "Incorrect API key provided: sk-****", type: "invalid_request_error", code: "invalid_api_key" } },
      { status: 401 },
    );
  });
  await uploadSlice("integrity-set", "sim-train", 0, 4);
});
afterAll(() => vi.restoreAllMocks());

const startRun = (agent: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>) =>
  call(
    "POST",
    "/api/runs",
    { agent, dataset: "integrity-set", epochs: 1, groupSize: 2, ...extra },
    headers ? { authorization: "Bearer test-admin-token", ...headers } : undefined,
  );

describe("Integrity: second active run on an agent → 409", () => {
  it("refuses a second run while one is active, also when both arrive together", async () => {
    await createSimAgent("one-run", { upstream: { baseUrl: "sim://local?latency_ms=200", model: "sim-1" } });
    const together = await Promise.all([startRun("one-run"), startRun("one-run"), startRun("one-run")]);
    expect(together.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const refused = together.find((r) => r.status === 409) as Response;
    const body = await json(refused);
    expectErrorShape(body);
    expect(body.error.code).toBe("run_in_progress");
    const first = await json<{ id: string }>(together.find((r) => r.status === 201) as Response);
    expect(await count("select count(*) as n from runs r join agents a on a.id = r.agent_id where a.name = 'one-run'")).toBe(1);
    await call("POST", `/api/runs/${first.id}/cancel`);
    expect((await startRun("one-run")).status).toBe(201);
  });
});

describe("Integrity: Idempotency-Key on POST /api/runs, /api/evaluations, /api/protocols/paper returns the first result", () => {
  it("a retried run start returns the first run, pays once; another body with the key is refused", async () => {
    await createSimAgent("idem-runs");
    const headers = { "idempotency-key": "start-1" };
    const first = await startRun("idem-runs", {}, headers);
    expect(first.status).toBe(201);
    const again = await startRun("idem-runs", {}, headers);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await json(again)).toEqual(await json(first));
    expect(await count("select count(*) as n from runs r join agents a on a.id = r.agent_id where a.name = 'idem-runs'")).toBe(1);
    const other = await startRun("idem-runs", { groupSize: 3 }, headers);
    expect(other.status).toBe(422);
    await waitForRun(((await json<{ id: string }>(await startRun("idem-runs", {}, headers))) as { id: string }).id);
  }, 120_000);

  it("a retried evaluation start returns the first evaluation", async () => {
    await createSimAgent("idem-evals");
    const post = () =>
      call(
        "POST",
        "/api/evaluations",
        { agent: "idem-evals", dataset: "integrity-set", versions: ["none"], k: 1 },
        { authorization: "Bearer test-admin-token", "idempotency-key": "eval-1" },
      );
    const a = await json<{ id: string }>(await post());
    const b = await json<{ id: string }>(await post());
    expect(b.id).toBe(a.id);
    expect(await count("select count(*) as n from evaluations e join agents a on a.id = e.agent_id where a.name = 'idem-evals'")).toBe(1);
  });

  it("a retried paper protocol start returns the first protocol", async () => {
    await createSimAgent("idem-paper");
    const post = () =>
      call(
        "POST",
        "/api/protocols/paper",
        { agent: "idem-paper", overrides: { epochs: 1, groupSize: 1, batchSize: 100, k: 1 } },
        { authorization: "Bearer test-admin-token", "idempotency-key": "paper-1" },
      );
    const a = await post();
    expect(a.status, await a.clone().text()).toBe(201);
    const first = await json<{ id: string; runId: string }>(a);
    const second = await json<{ id: string; runId: string }>(await post());
    expect(second).toEqual(first);
    expect(await count("select count(*) as n from protocols p join agents a on a.id = p.agent_id where a.name = 'idem-paper'")).toBe(1);
    await call("POST", `/api/runs/${first.runId}/cancel`);
  }, 120_000);
});

describe("Integrity: usage-log flush isolated so deleting an agent loses no other agent's rows", () => {
  it("keeps every row of the other agent when one agent was deleted before the flush", async () => {
    await createSimAgent("usage-keeper");
    await createSimAgent("usage-goner");
    const [keeper, goner] = await Promise.all(
      ["usage-keeper", "usage-goner"].map(async (n) => (await json<{ id: string }>(await call("GET", `/api/agents/${n}`))).id),
    );
    const ctx = { waitUntil: (p: Promise<unknown>) => void p.catch(() => undefined) };
    const row = (agentId: string, i: number) => ({
      requestId: `req_iso_${agentId}_${i}`,
      agentId: agentId as string,
      status: 200,
      stream: false,
      latencyMs: 1,
    });
    for (let i = 0; i < 6; i++) recordUsage(env, ctx, row(keeper as string, i));
    recordUsage(env, ctx, row(goner as string, 0));
    expect((await call("DELETE", "/api/agents/usage-goner")).status).toBe(200);
    await flushUsage(env);
    expect(await count("select count(*) as n from usage_logs where agent_id = ?", keeper)).toBe(6);
  });
});

describe("Integrity: a run whose upstream keeps failing stops with a clear reason (non-retryable errors without Workflow retries stacking)", () => {
  it("fails the run after the first batch with the upstream's error, one request per rollout", async () => {
    await createSimAgent("down-upstream", { upstream: { baseUrl: "https://down.example/v1", model: "m", apiKey: "sk-wrong-key-123456" } });
    downRequests = 0;
    const res = await startRun("down-upstream", { batchSize: 2, epochs: 2 });
    expect(res.status).toBe(201);
    const run = await waitForRun((await json<{ id: string }>(res)).id);
    const view = await json<{ status: string; reason: string; error: string; groups: { dropped: number } }>(
      await call("GET", `/api/runs/${run.id}`),
    );
    expect(view.status).toBe("failed");
    expect(view.reason).toBe("upstream_failing");
    expect(view.error).toContain("HTTP 401");
    expect(view.error).not.toContain("sk-wrong-key");
    // The first batch's two groups, two rollouts each, each sent once: no retries of any layer.
    expect(view.groups.dropped).toBe(2);
    expect(downRequests).toBeLessThanOrEqual(4);
  }, 120_000);
});

describe("Integrity: batch update selects only rewards, not full texts", () => {
  it("reads no rollout text while consolidating a batch", async () => {
    await createSimAgent("reads-rewards");
    const run = await waitForRun((await json<{ id: string }>(await startRun("reads-rewards"))).id);
    expect(run.status).toBe("completed");
    const queries: string[] = [];
    const recording = new Proxy(env.DB, {
      get(target, prop, receiver) {
        if (prop === "prepare") {
          return (query: string) => {
            queries.push(query);
            return target.prepare(query);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await env.DB.prepare("delete from batches where run_id = ?").bind(run.id).run();
    const ctx = await loadRunContext({ ...env, DB: recording }, run.id);
    await updateBatch(ctx, 1, 0, { version: 0, items: [] });
    const rolloutReads = queries.filter((q) => /from "rollouts"/i.test(q));
    expect(rolloutReads.length).toBeGreaterThan(0);
    for (const q of rolloutReads) expect(q).not.toMatch(/"response"|"summary"|"critique"/);
  }, 120_000);
});

describe("Integrity: run deletion with everything it owns, and snapshot cleanup", () => {
  it("deletes a finished run's rollouts, groups, batches, LLM calls and scheduled snapshot; the data set can then go", async () => {
    await createSimAgent("deletes-runs");
    await uploadSlice("deletable-set", "sim-train", 4, 7);
    const res = await call("POST", "/api/runs", { agent: "deletes-runs", dataset: "deletable-set", epochs: 1, groupSize: 2 });
    const run = await waitForRun((await json<{ id: string }>(res)).id);
    const agentId = (await json<{ id: string }>(await call("GET", "/api/agents/deletes-runs"))).id;
    // As the schedule would have it: the run trained on a snapshot made for its period.
    const snapshot = (await rows<{ id: string }>("select id from datasets where name = 'deletable-set'"))[0]?.id;
    await env.DB.prepare("insert into scheduled_runs (agent_id, period, status, run_id, dataset_id) values (?, 1, 'started', ?, ?)")
      .bind(agentId, run.id, snapshot)
      .run();
    expect(await count("select count(*) as n from rollouts where run_id = ?", run.id)).toBeGreaterThan(0);
    expect(await count("select count(*) as n from llm_calls where owner_id = ?", run.id)).toBeGreaterThan(0);

    const versionsBefore = await count("select count(*) as n from library_versions where agent_id = ?", agentId);
    const del = await call("DELETE", `/api/runs/${run.id}`);
    expect(del.status).toBe(200);
    for (const table of ["rollouts", "groups", "batches"])
      expect(await count(`select count(*) as n from ${table} where run_id = ?`, run.id)).toBe(0);
    expect(await count("select count(*) as n from llm_calls where owner_id = ?", run.id)).toBe(0);
    expect(await count("select count(*) as n from runs where id = ?", run.id)).toBe(0);
    expect(await count("select count(*) as n from datasets where id = ?", snapshot)).toBe(0);
    expect(await count("select count(*) as n from library_versions where agent_id = ?", agentId)).toBe(versionsBefore);
    expect((await call("GET", `/api/runs/${run.id}`)).status).toBe(404);
  }, 120_000);

  it("refuses to delete a run in progress", async () => {
    await createSimAgent("busy-run", { upstream: { baseUrl: "sim://local?latency_ms=300", model: "sim-1" } });
    const { id } = await json<{ id: string }>(await startRun("busy-run"));
    const res = await call("DELETE", `/api/runs/${id}`);
    expect(res.status).toBe(409);
    await call("POST", `/api/runs/${id}/cancel`);
  });
});

describe("Integrity: dataset/agent deletion also checks evaluations", () => {
  it("refuses while an evaluation uses the data set or belongs to the agent", async () => {
    await createSimAgent("evaluated");
    await uploadSlice("evaluated-set", "sim-train", 10, 12);
    const agentId = (await json<{ id: string }>(await call("GET", "/api/agents/evaluated"))).id;
    const datasetId = (await rows<{ id: string }>("select id from datasets where name = 'evaluated-set'"))[0]?.id;
    await env.DB.prepare(
      "insert into evaluations (id, agent_id, dataset_id, versions, params, status) values ('eval_busy', ?, ?, '[0]', '{}', 'running')",
    )
      .bind(agentId, datasetId)
      .run();
    const ds = await call("DELETE", "/api/datasets/evaluated-set");
    expect(ds.status).toBe(409);
    expect((await json<{ error: { code: string } }>(ds)).error.code).toBe("evaluation_in_progress");
    const ag = await call("DELETE", "/api/agents/evaluated");
    expect(ag.status).toBe(409);
    expect((await json<{ error: { code: string } }>(ag)).error.code).toBe("evaluation_in_progress");
    await env.DB.prepare("update evaluations set status = 'completed' where id = 'eval_busy'").run();
    expect((await call("DELETE", "/api/datasets/evaluated-set")).status).toBe(200);
  });
});

describe("Integrity: retention applied to derived data", () => {
  it("expires the rollouts, LLM calls, group analyses and snapshot samples of runs on captured traffic older than the retention", async () => {
    await createSimAgent("retained", { capture: { enabled: true, retentionDays: 7 } });
    const agentId = (await json<{ id: string }>(await call("GET", "/api/agents/retained"))).id;
    const s = env.DB;
    await s.batch([
      s.prepare("insert into datasets (id, name, source, sample_count) values ('ds_snap', 'retained-sched-1', 'feedback', 2)"),
      s.prepare(
        "insert into samples (dataset_id, idx, sample_id, question, answer) values ('ds_snap', 0, 'train-1', 'q', 'a'), ('ds_snap', 1, 'req_expired0001', 'captured question', 'a')",
      ),
      s
        .prepare(
          "insert into runs (id, agent_id, dataset_id, kind, params, status, updated_at) values ('run_old', ?, 'ds_snap', 'scheduled', '{}', 'completed', '2020-01-01T00:00:00.000Z')",
        )
        .bind(agentId),
      s
        .prepare("insert into scheduled_runs (agent_id, period, status, run_id, dataset_id) values (?, 7, 'started', 'run_old', 'ds_snap')")
        .bind(agentId),
      s.prepare(
        "insert into rollouts (run_id, epoch, batch, sample_idx, rollout_idx, prompt_version, response, reward) values ('run_old', 1, 0, 1, 0, 0, 'text about the captured question', 1)",
      ),
      s.prepare(
        "insert into groups (run_id, epoch, batch, sample_idx, status, mean_reward, passed, advantage) values ('run_old', 1, 0, 1, 'kept', 0.5, 1, 'why the captured question was hard')",
      ),
      s.prepare(
        "insert into llm_calls (owner_id, call_key, stage, attempts, prompt_tokens, completion_tokens, cached_tokens, response) values ('run_old', 'e1/s1/r0/rollout', 'rollout', 1, 1, 1, 0, 'reply')",
      ),
    ]);
    const report = await applyRetention(db(env.DB), new Date().toISOString());
    expect(report).toEqual({ rollouts: 1, snapshotSamples: 2 });
    expect(await count("select count(*) as n from samples where dataset_id = 'ds_snap'")).toBe(0);
    expect(await count("select count(*) as n from rollouts where run_id = 'run_old'")).toBe(0);
    expect(await count("select count(*) as n from llm_calls where owner_id = 'run_old'")).toBe(0);
    expect(await count("select count(*) as n from groups where run_id = 'run_old' and advantage is not null")).toBe(0);
    // The run's record and metrics stay.
    expect(await count("select count(*) as n from runs where id = 'run_old'")).toBe(1);
  });
});

describe("Integrity: cron phases isolated and bounded per tick", () => {
  it("a failing phase does not keep the others from running", async () => {
    const failingRetention = new Proxy(env.DB, {
      get(target, prop, receiver) {
        if (prop === "prepare") {
          return (query: string) => {
            if (/delete from "captures"/i.test(query)) throw new Error("D1 is having a bad day (Bearer sk-should-not-appear-123)");
            return target.prepare(query);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await createSimAgent("cron-scheduled", { schedule: { everyHours: 6, trainingDataset: "no-such-set" } });
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const report = await runScheduled({ ...env, DB: failingRetention }, Date.UTC(2026, 5, 1));
    const logged = errors.mock.calls.map((c) => String(c[0])).join("\n");
    errors.mockRestore();
    expect(report.errors.map((e) => e.phase)).toEqual(["retention"]);
    expect(report.skipped.some((s) => s.reason.includes("no-such-set"))).toBe(true);
    expect(logged).toContain("D1 is having a bad day");
    expect(logged).not.toContain("sk-should-not-appear");
  });

  it(`recovers at most ${MAX_RECOVERIES_PER_TICK} stalled runs and evaluations per tick`, async () => {
    await createSimAgent("many-stalled");
    const agentId = (await json<{ id: string }>(await call("GET", "/api/agents/many-stalled"))).id;
    const datasetId = (await rows<{ id: string }>("select id from datasets where name = 'integrity-set'"))[0]?.id;
    for (let i = 0; i < MAX_RECOVERIES_PER_TICK + 5; i++) {
      await env.DB.prepare(
        "insert into evaluations (id, agent_id, dataset_id, versions, params, status, updated_at) values (?, ?, ?, '[0]', '{}', 'running', '2020-01-01T00:00:00.000Z')",
      )
        .bind(`eval_stalled_${i}`, agentId, datasetId)
        .run();
    }
    const report = await runScheduled(env, Date.now());
    expect(report.recovered.length).toBeLessThanOrEqual(MAX_RECOVERIES_PER_TICK);
    expect(report.recovered.length).toBeGreaterThan(0);
  });
});
