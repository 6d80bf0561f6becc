import { createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { setServingTtlOverride } from "../../src/serving/ttl";
import { simDataset } from "../../src/sim";
import { call, json } from "./helpers";
import { covering, createSimAgent, promotionsOf, uploadSlice, waitFor, waitForRun, proxyChat } from "./evalHelpers";

const HOUR = 3_600_000;
/** A fixed moment inside one schedule period (every 6 hours). */
const T0 = Date.UTC(2026, 4, 1, 9, 0);

async function fireCron(scheduledTime: number): Promise<void> {
  const controller = createScheduledController({ scheduledTime, cron: "*/15 * * * *" });
  await worker.scheduled(controller, env);
}

async function chat(key: string, question: string, headers: Record<string, string> = {}): Promise<Response> {
  return proxyChat(key, question, { temperature: 0.7, seed: 1, headers });
}

const rows = async <T>(query: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...binds)
      .all<T>()
  ).results;

describe("feedback and scheduled retraining", () => {
  let key = "";
  const requestIds: string[] = [];
  const feedbackQuestions = simDataset("sim-train").slice(20, 30);

  it(
    "captures proxied exchanges (opt-in) under the x-request-id of the response",
    async () => {
      await uploadSlice("sched-train", "sim-train", 0, 20);
      await uploadSlice("sched-holdout", "sim-test", 200, 230);
      await createSimAgent("scheduled", {
        capture: { enabled: true, retentionDays: 7 },
        gate: { dataset: "sched-holdout", k: 4, temperature: 0.7, margin: 0.02 },
        schedule: { everyHours: 6, trainingDataset: "sched-train", hyperparams: { epochs: 1, groupSize: 5, maxGroupsInFlight: 40 } },
      });
      await createSimAgent("no-capture");
      key = (await json<{ key: string }>(await call("POST", "/api/agents/scheduled/keys", {}))).key;
      const otherKey = (await json<{ key: string }>(await call("POST", "/api/agents/no-capture/keys", {}))).key;

      for (const p of feedbackQuestions) {
        const res = await chat(key, p.question);
        expect(res.status).toBe(200);
        await res.text();
        requestIds.push(res.headers.get("x-request-id") ?? "");
      }
      const other = await chat(otherKey, feedbackQuestions[0]!.question);
      await other.text();
      const captured = await waitFor(
        "captures",
        () =>
          rows<{ request_id: string; question: string; agent_id: string; expires_at: string; response_text: string }>(
            "SELECT * FROM captures",
          ),
        (r) => r.length >= requestIds.length,
      );
      expect(captured.map((c) => c.request_id).sort()).toEqual([...requestIds].sort());
      expect(captured.every((c) => c.response_text.includes("\\boxed"))).toBe(true);
      expect(captured.find((c) => c.request_id === requestIds[0])?.question).toBe(feedbackQuestions[0]!.question);
    },
    covering(1),
  );

  it("a capture setting changed through the admin API applies at once in the isolate that served the change", async () => {
    // A long TTL: only the invalidation on PATCH can make the new retention visible.
    setServingTtlOverride(3600);
    try {
      await createSimAgent("capture-ttl", { capture: { enabled: true, retentionDays: 30 } });
      const ttlKey = (await json<{ key: string }>(await call("POST", "/api/agents/capture-ttl/keys", {}))).key;
      const captureOf = async (question: string) => {
        const res = await chat(ttlKey, question);
        await res.text();
        const id = res.headers.get("x-request-id");
        const [row] = await waitFor(
          `capture ${id}`,
          () => rows<{ created_at: string; expires_at: string }>("SELECT created_at, expires_at FROM captures WHERE request_id = ?", id),
          (r) => r.length === 1,
        );
        return Math.round((Date.parse(row!.expires_at) - Date.parse(row!.created_at)) / (24 * HOUR));
      };
      expect(await captureOf(feedbackQuestions[1]!.question)).toBe(30);
      expect((await call("PATCH", "/api/agents/capture-ttl", { capture: { enabled: true, retentionDays: 1 } })).status).toBe(200);
      expect(await captureOf(feedbackQuestions[2]!.question)).toBe(1);
      // Its captures go with it, so the retention test below counts only the scheduled agent's.
      expect((await call("DELETE", "/api/agents/capture-ttl")).status).toBe(200);
    } finally {
      setServingTtlOverride(null);
    }
  });

  it("labels captured exchanges with POST /v1/feedback; pending until an admin approves, then feedback samples", async () => {
    expect((await call("POST", "/v1/feedback", { request_id: requestIds[0], reward: 1 }, {})).status).toBe(401);
    const auth = { authorization: `Bearer ${key}` };
    expect((await call("POST", "/v1/feedback", { request_id: requestIds[0] }, auth)).status).toBe(400);
    expect((await call("POST", "/v1/feedback", { request_id: requestIds[0], reward: 3 }, auth)).status).toBe(400);
    for (const [i, id] of requestIds.entries()) {
      const body =
        i === 0
          ? { request_id: id, reward: 0, answer: feedbackQuestions[i]!.answer, comment: "wrong, here is the answer" }
          : { request_id: id, answer: feedbackQuestions[i]!.answer };
      const res = await call("POST", "/v1/feedback", body, auth);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ request_id: id, captured: true, status: "pending", sample: null });
    }
    // Feedback on a request that was never captured is still logged.
    const unknown = await json<{ id: string; captured: boolean; sample: unknown }>(
      await call("POST", "/v1/feedback", { request_id: "req_unknown", comment: "meh" }, auth),
    );
    expect(unknown).toMatchObject({ captured: false, sample: null });
    // Pending feedback writes no training data: no run can see it yet.
    expect((await call("GET", "/api/datasets/scheduled-feedback")).status).toBe(404);
    const pending = await json<{ data: { id: string; requestId: string; keyId: string | null }[] }>(
      await call("GET", "/api/agents/scheduled/feedback?status=pending"),
    );
    expect(pending.data).toHaveLength(11);
    expect(pending.data.every((f) => f.keyId?.startsWith("key_"))).toBe(true);
    for (const f of pending.data.filter((f) => f.requestId !== "req_unknown")) {
      const decided = await json<{ feedback: { status: string }; sample: unknown }>(
        await call("POST", `/api/agents/scheduled/feedback/${f.id}/approve`),
      );
      expect(decided).toMatchObject({ feedback: { status: "approved" }, sample: { dataset: "scheduled-feedback", id: f.requestId } });
    }
    // Nothing captured to learn from: it cannot be approved, only rejected, and a decision is final.
    expect((await call("POST", `/api/agents/scheduled/feedback/${unknown.id}/approve`)).status).toBe(409);
    expect((await call("POST", `/api/agents/scheduled/feedback/${unknown.id}/reject`)).status).toBe(200);
    expect((await call("POST", `/api/agents/scheduled/feedback/${unknown.id}/approve`)).status).toBe(409);
    const ds = await json<{ source: string; sampleCount: number }>(await call("GET", "/api/datasets/scheduled-feedback"));
    expect(ds).toMatchObject({ source: "feedback", sampleCount: 10 });
    const logged = await rows<{ n: number }>("SELECT count(*) AS n FROM feedback");
    expect(logged[0]?.n).toBe(11);
  });

  it("a key over its daily feedback cap gets 429 in the OpenAI error shape; answers are capped at 2,000 characters", async () => {
    await createSimAgent("capped", { capture: { enabled: true, retentionDays: 7, feedbackPerKeyPerDay: 2 } });
    const capped = { authorization: `Bearer ${(await json<{ key: string }>(await call("POST", "/api/agents/capped/keys", {}))).key}` };
    const other = { authorization: `Bearer ${(await json<{ key: string }>(await call("POST", "/api/agents/capped/keys", {}))).key}` };
    expect((await call("POST", "/v1/feedback", { request_id: "r1", answer: "x".repeat(2_001) }, capped)).status).toBe(400);
    for (const id of ["r1", "r2"]) expect((await call("POST", "/v1/feedback", { request_id: id, reward: 1 }, capped)).status).toBe(200);
    const over = await call("POST", "/v1/feedback", { request_id: "r3", reward: 1 }, capped);
    expect(over.status).toBe(429);
    expect(await over.json()).toMatchObject({ error: { type: "rate_limit_error", code: "feedback_cap_exceeded" } });
    // The cap is per key.
    expect((await call("POST", "/v1/feedback", { request_id: "r3", reward: 1 }, other)).status).toBe(200);
    await rows("DELETE FROM feedback WHERE agent_id = (SELECT id FROM agents WHERE name = 'capped')");
  });

  it("the cap holds under concurrent sends: exactly the cap is stored, the rest get 429", async () => {
    await createSimAgent("raced", { capture: { enabled: true, retentionDays: 7, feedbackPerKeyPerDay: 3 } });
    const auth = { authorization: `Bearer ${(await json<{ key: string }>(await call("POST", "/api/agents/raced/keys", {}))).key}` };
    const sent = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call("POST", "/v1/feedback", { request_id: `race-${i}`, reward: 1 }, auth)),
    );
    const statuses = sent.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(3).fill(200), ...Array(9).fill(429)]);
    await Promise.all(sent.map((r) => r.arrayBuffer()));
    const stored = await rows<{ n: number }>(
      "SELECT count(*) AS n FROM feedback WHERE agent_id = (SELECT id FROM agents WHERE name = 'raced')",
    );
    expect(stored[0]?.n).toBe(3);
    await rows("DELETE FROM feedback WHERE agent_id = (SELECT id FROM agents WHERE name = 'raced')");
  });

  it("the cron trigger starts one warm-started run per period on training data plus feedback, however often it fires", async () => {
    await Promise.all([fireCron(T0), fireCron(T0 + 60_000)]);
    await fireCron(T0 + 15 * 60_000);
    const scheduled = await rows<{ period: number; status: string; run_id: string; feedback_samples: number }>(
      "SELECT * FROM scheduled_runs",
    );
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]).toMatchObject({ period: Math.floor(T0 / (6 * HOUR)), status: "started", feedback_samples: 10 });
    const runs = await json<{ data: { id: string; kind: string; datasetId: string }[] }>(await call("GET", "/api/runs?agent=scheduled"));
    expect(runs.data).toHaveLength(1);
    expect(runs.data[0]).toMatchObject({ id: scheduled[0]!.run_id, kind: "scheduled" });
    // The feedback is in the run's data, after the training set.
    const sampleIds = (
      await rows<{ sample_id: string; idx: number }>(
        "SELECT sample_id, idx FROM samples WHERE dataset_id = ? ORDER BY idx",
        runs.data[0]!.datasetId,
      )
    ).map((s) => s.sample_id);
    expect(sampleIds).toHaveLength(30);
    expect(sampleIds.slice(20).sort()).toEqual([...requestIds].sort());
  });

  it(
    "recovers a run that stopped progressing with pause() and resume(), and records it",
    async () => {
      const [s] = await rows<{ run_id: string }>("SELECT run_id FROM scheduled_runs");
      const runId = s!.run_id;
      await waitFor(
        "run running",
        () => rows<{ status: string }>("SELECT status FROM runs WHERE id = ?", runId),
        (r) => r[0]?.status !== "queued",
      );
      // A genuinely stalled run: its instance makes no progress (paused, as after a local restart), and
      // nothing has touched the run for longer than STALE_RUN_MINUTES.
      const instance = await env.TRAINING_RUN.get(runId);
      await instance.pause();
      await waitFor(
        "instance paused",
        async () => (await instance.status()).status,
        (status) => status === "paused" || status === "complete",
      );
      const paused = (await instance.status()).status === "paused";
      // Group instances already spawned finish their work (and touch the run) while the parent is
      // paused; the run is stalled once they are done and nothing moves any more.
      let last = -1;
      await waitFor(
        "groups settled",
        async () => {
          await new Promise((r) => setTimeout(r, 400));
          const [n] = await rows<{ n: number }>("SELECT count(*) AS n FROM groups WHERE run_id = ?", runId);
          const settled = n!.n === last;
          last = n!.n;
          return settled;
        },
        (settled) => settled,
      );
      await env.DB.prepare("UPDATE runs SET updated_at = ? WHERE id = ?")
        .bind(new Date(Date.now() - 2 * HOUR).toISOString(), runId)
        .run();
      await fireCron(Date.now());
      const recovered = await rows<{ kind: string; action: string }>("SELECT * FROM recoveries WHERE target_id = ?", runId);
      // That firing falls in a later period, but the scheduled run still in progress blocks a second one.
      const later = await rows<{ status: string; reason: string }>("SELECT * FROM scheduled_runs WHERE run_id IS NULL");
      expect(later).toEqual([expect.objectContaining({ status: "skipped", reason: "a run of this agent is still in progress" })]);
      expect(recovered).toHaveLength(1);
      if (paused) {
        expect(recovered[0]).toMatchObject({ kind: "run", action: expect.stringMatching(/^pause\+resume \(was paused\)/) });
        expect((await instance.status()).status).not.toBe("paused");
      }
      console.log(`recovery of ${runId}: ${recovered[0]!.action}`);
    },
    covering(3),
  );

  it(
    "the scheduled run is gated, promoted, and then served on /v1/chat/completions",
    async () => {
      const [s] = await rows<{ run_id: string }>("SELECT run_id FROM scheduled_runs");
      const run = await waitForRun(s!.run_id);
      expect(run.status).toBe("completed");
      expect(run.fromVersion).toBe(0);
      const promotions = await waitFor(
        "schedule decision",
        () => promotionsOf("scheduled"),
        (p) => p.data.length > 0,
      );
      const decision = promotions.data[0]!;
      console.log(`scheduled run ${run.id}: v${run.latestVersion} → ${decision.decision}: ${decision.reason}`);
      expect(decision).toMatchObject({ decidedBy: "schedule", decision: "promoted", toVersion: run.latestVersion, runId: run.id });
      setServingTtlOverride(0);
      try {
        const res = await chat(key, simDataset("sim-test")[0]!.question);
        expect(res.status).toBe(200);
        await res.text();
        expect(res.headers.get("x-experience-version")).toBe(String(run.latestVersion));
      } finally {
        setServingTtlOverride(null);
      }
    },
    covering(2),
  );

  it(
    "purges captures past their retention",
    async () => {
      await waitFor(
        "the last capture",
        () => rows<{ n: number }>("SELECT count(*) AS n FROM captures"),
        (r) => r[0]?.n === 11,
      );
      const patched = await call("PATCH", "/api/agents/scheduled", {
        schedule: { enabled: false, everyHours: 6, trainingDataset: "sched-train" },
      });
      expect(patched.status).toBe(200);
      await fireCron(Date.now() + 8 * 24 * HOUR);
      expect(await rows("SELECT * FROM scheduled_runs WHERE status = 'started'")).toHaveLength(1);
      expect((await rows<{ n: number }>("SELECT count(*) AS n FROM captures"))[0]?.n).toBe(0);
      // Labelled samples outlive the captures they came from.
      expect((await json<{ sampleCount: number }>(await call("GET", "/api/datasets/scheduled-feedback"))).sampleCount).toBe(10);
    },
    covering(1),
  );
});
