import { afterAll, describe, expect, it } from "vitest";
import { simDataset } from "../../src/sim";
import { randomEncryptionKey, startWranglerDev, type WranglerDev } from "../../scripts/lib/wranglerDev";

const TOKEN = "schedule-admin-token";
/** The test's waits at their longest (dev start: migrations then readiness), which its timeout covers. */
const WAIT = {
  devStart: 120_000 + 90_000,
  feedback: 6 * 30_000,
  scheduledRun: 240_000,
  runFinished: 240_000,
  decision: 240_000,
  served: 30_000,
};
const TIMEOUT = Object.values(WAIT).reduce((a, b) => a + b, 0) + 60_000;
const SYSTEM = "Solve the word problem step by step and give the final answer in \\boxed{}.";

describe("scheduled retraining through wrangler dev --test-scheduled", () => {
  let dev: WranglerDev;
  afterAll(async () => dev?.stop());

  async function call(method: string, path: string, body?: unknown, auth = `Bearer ${TOKEN}`): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(`${dev.url}${path}`, {
          method,
          headers: { authorization: auth, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
          // The local engine can hold a request while it is busy; a GET is safe to retry.
          signal: AbortSignal.timeout(15_000),
        });
      } catch (error) {
        if (method !== "GET" || attempt >= 8 || !(error instanceof Error && error.name === "TimeoutError")) throw error;
      }
    }
  }
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await call(method, path, body);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  async function until<T>(what: string, get: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 240_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await get();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it(
    "feedback on captured requests reaches the next scheduled run, whose gated promotion is then served",
    async () => {
      dev = await startWranglerDev({ vars: { ADMIN_TOKEN: TOKEN, ENCRYPTION_KEY: randomEncryptionKey() }, args: ["--test-scheduled"] });
      await api("POST", "/api/datasets?name=sched-train", simDataset("sim-train").slice(0, 20));
      await api("POST", "/api/datasets?name=sched-holdout", simDataset("sim-test").slice(200, 230));
      await api("POST", "/api/agents", {
        name: "nightly",
        upstream: { baseUrl: "sim://local", model: "sim-1" },
        systemPrompt: SYSTEM,
        verifier: { kind: "math" },
        capture: { enabled: true, retentionDays: 7 },
        gate: { dataset: "sched-holdout", k: 4, temperature: 0.7, margin: 0.02 },
        schedule: { everyHours: 6, trainingDataset: "sched-train", hyperparams: { epochs: 1, groupSize: 5, maxGroupsInFlight: 20 } },
      });
      const { key } = await api<{ key: string }>("POST", "/api/agents/nightly/keys", {});

      // Real traffic through the chat endpoint, captured, labelled through /v1/feedback, approved by an admin.
      const labelled = simDataset("sim-train").slice(20, 26);
      const requestIds: string[] = [];
      for (const p of labelled) {
        const res = await call(
          "POST",
          "/v1/chat/completions",
          { model: "sim-1", messages: [{ role: "user", content: p.question }] },
          `Bearer ${key}`,
        );
        expect(res.status).toBe(200);
        expect(res.headers.get("x-experience-version")).toBe("none");
        await res.text();
        requestIds.push(res.headers.get("x-request-id") ?? "");
      }
      for (const [i, id] of requestIds.entries()) {
        const res = await until(
          "feedback on a captured request",
          async () => call("POST", "/v1/feedback", { request_id: id, answer: labelled[i]!.answer }, `Bearer ${key}`),
          (r) => r.status === 200,
          30_000,
        );
        const { id: feedbackId } = (await res.json()) as { id: string };
        const approved = await until(
          "approval of the feedback once its exchange is captured",
          async () => call("POST", `/api/agents/nightly/feedback/${feedbackId}/approve`, undefined, `Bearer ${TOKEN}`),
          (r) => r.status === 200,
          30_000,
        );
        expect(await approved.json()).toMatchObject({ feedback: { status: "approved" }, sample: { id } });
      }

      // The cron trigger, as `wrangler dev --test-scheduled` exposes it.
      const fired = await call("GET", "/__scheduled?cron=*/15+*+*+*+*");
      expect(fired.status).toBe(200);
      await fired.text();

      type Run = { id: string; kind: string; status: string; datasetId: string; latestVersion: number };
      const runs = await until(
        "a scheduled run",
        () => api<{ data: Run[] }>("GET", "/api/runs?agent=nightly"),
        (r) => r.data.length > 0,
      );
      const run = runs.data[0]!;
      expect(run.kind).toBe("scheduled");
      const samples = await api<{ data: { id: string }[]; total: number }>(
        "GET",
        `/api/datasets/${run.datasetId}/samples?offset=0&limit=100`,
      );
      expect(samples.total).toBe(20 + labelled.length);
      expect(
        samples.data
          .map((s) => s.id)
          .slice(20)
          .sort(),
      ).toEqual([...requestIds].sort());

      const finished = await until(
        "the scheduled run",
        () => api<Run>("GET", `/api/runs/${run.id}`),
        (r) => r.status !== "queued" && r.status !== "running",
      );
      expect(finished.status).toBe("completed");
      const promotions = await until(
        "the gate's decision",
        () => api<{ data: { decidedBy: string; decision: string; toVersion: number }[] }>("GET", "/api/agents/nightly/promotions"),
        (p) => p.data.length > 0,
      );
      expect(promotions.data[0]).toMatchObject({ decidedBy: "schedule", decision: "promoted", toVersion: finished.latestVersion });

      // Served within the library TTL (5 s).
      const served = await until(
        "the promoted version on /v1/chat/completions",
        async () => {
          const res = await call(
            "POST",
            "/v1/chat/completions",
            { messages: [{ role: "user", content: labelled[0]!.question }] },
            `Bearer ${key}`,
          );
          await res.text();
          return res.headers.get("x-experience-version");
        },
        (v) => v === String(finished.latestVersion),
        30_000,
      );
      expect(served).toBe(String(finished.latestVersion));
    },
    TIMEOUT,
  );

  it(
    "a scheduled run on unlabelled captured traffic learns without ground truth, and the gate promotes it",
    async () => {
      await api("POST", "/api/agents", {
        name: "traffic",
        upstream: { baseUrl: "sim://local", model: "sim-1" },
        systemPrompt: SYSTEM,
        verifier: { kind: "math" },
        capture: { enabled: true, retentionDays: 7 },
        gate: { dataset: "sched-holdout", k: 4, temperature: 0.7, margin: 0.02 },
        schedule: { everyHours: 6, captures: { days: 1 }, hyperparams: { epochs: 1, groupSize: 5, maxGroupsInFlight: 20 } },
      });
      const { key } = await api<{ key: string }>("POST", "/api/agents/traffic/keys", {});
      const questions = simDataset("sim-train")
        .slice(40, 60)
        .map((p) => p.question);
      const requestIds: string[] = [];
      for (const q of questions) {
        const res = await call(
          "POST",
          "/v1/chat/completions",
          { model: "sim-1", messages: [{ role: "user", content: q }] },
          `Bearer ${key}`,
        );
        expect(res.status).toBe(200);
        await res.text();
        requestIds.push(res.headers.get("x-request-id") ?? "");
      }
      // Captures are written after the response: fire the trigger once every exchange is stored (the
      // period's run would otherwise freeze a partial snapshot). An unlabelled comment says whether it is.
      for (const id of requestIds) {
        await until(
          "the exchange captured",
          async () =>
            (await (await call("POST", "/v1/feedback", { request_id: id, comment: "seen" }, `Bearer ${key}`)).json()) as {
              captured: boolean;
            },
          (r) => r.captured,
          30_000,
        );
      }
      const fired = await call("GET", "/__scheduled?cron=*/15+*+*+*+*");
      expect(fired.status).toBe(200);
      await fired.text();

      type Run = {
        id: string;
        status: string;
        datasetId: string;
        latestVersion: number;
        params: { groundTruth: boolean };
        groups: { skipped: number };
      };
      const runs = await until(
        "a scheduled run on captures",
        () => api<{ data: Run[] }>("GET", "/api/runs?agent=traffic"),
        (r) => r.data.length > 0,
      );
      const samples = await api<{ data: { question: string; answer: string }[]; total: number }>(
        "GET",
        `/api/datasets/${runs.data[0]!.datasetId}/samples?offset=0&limit=100`,
      );
      expect(samples.total).toBe(questions.length);
      expect(samples.data.every((s) => s.answer === "")).toBe(true);
      const finished = await until(
        "the run on captures",
        () => api<Run>("GET", `/api/runs/${runs.data[0]!.id}`),
        (r) => r.status !== "queued" && r.status !== "running",
      );
      expect(finished).toMatchObject({ status: "completed", params: { groundTruth: false }, groups: { skipped: 0 } });
      const promotions = await until(
        "the gate's decision on the captured-traffic run",
        () =>
          api<{ data: { decidedBy: string; decision: string; toVersion: number; reason: string }[] }>(
            "GET",
            "/api/agents/traffic/promotions",
          ),
        (p) => p.data.length > 0,
      );
      console.log(
        `captured-traffic run ${finished.id}: v${finished.latestVersion} → ${promotions.data[0]!.decision}: ${promotions.data[0]!.reason}`,
      );
      expect(promotions.data[0]).toMatchObject({ decidedBy: "schedule", decision: "promoted", toVersion: finished.latestVersion });
    },
    TIMEOUT,
  );
});
