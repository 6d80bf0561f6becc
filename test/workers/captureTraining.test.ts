import { createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { simDataset } from "../../src/sim";
import { call, json } from "./helpers";
import { covering, createSimAgent, promotionsOf, uploadSlice, waitFor, waitForRun, proxyChat } from "./evalHelpers";

const rows = async <T>(query: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...binds)
      .all<T>()
  ).results;

describe("scheduled training on captured traffic, without labels", () => {
  it(
    "trains on the deduplicated captures of the last days in no-ground-truth mode, and the gate promotes the result",
    async () => {
      await uploadSlice("traffic-holdout", "sim-test", 0, 40);
      await createSimAgent("traffic", {
        capture: { enabled: true, retentionDays: 7 },
        gate: { dataset: "traffic-holdout", k: 2, temperature: 0.7, margin: 0.02 },
        schedule: { everyHours: 6, captures: { days: 2 }, hyperparams: { epochs: 1, groupSize: 4, maxGroupsInFlight: 40 } },
      });
      const key = (await json<{ key: string }>(await call("POST", "/api/agents/traffic/keys", {}))).key;
      // Real traffic: 20 distinct questions, 4 of them asked twice (deduplicated by question).
      const questions = simDataset("sim-train")
        .slice(0, 20)
        .map((p) => p.question);
      for (const q of [...questions, ...questions.slice(0, 4)]) {
        const res = await proxyChat(key, q, { temperature: 0.7 });
        expect(res.status).toBe(200);
        await res.text();
      }
      await waitFor(
        "captures",
        () => rows<{ n: number }>("SELECT count(*) AS n FROM captures"),
        (r) => r[0]?.n === 24,
      );

      await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env);
      const [scheduled] = await rows<{ run_id: string; dataset_id: string; status: string }>("SELECT * FROM scheduled_runs");
      expect(scheduled).toMatchObject({ status: "started" });
      const samples = await rows<{ question: string; answer: string }>(
        "SELECT question, answer FROM samples WHERE dataset_id = ?",
        scheduled!.dataset_id,
      );
      expect(samples).toHaveLength(20);
      expect(new Set(samples.map((s) => s.question))).toEqual(new Set(questions));
      expect(samples.every((s) => s.answer === "")).toBe(true);

      const run = (await waitForRun(scheduled!.run_id)) as Awaited<ReturnType<typeof waitForRun>> & {
        params: { groundTruth: boolean };
        groups: { skipped: number; kept: number };
      };
      expect(run.status).toBe("completed");
      expect(run.params.groundTruth).toBe(false);
      expect(run.groups.skipped).toBe(0);
      expect(run.groups.kept).toBeGreaterThan(0);
      const decision = (
        await waitFor(
          "gate decision",
          () => promotionsOf("traffic"),
          (p) => p.data.length > 0,
        )
      ).data[0]!;
      console.log(`captured-traffic run ${run.id}: v${run.latestVersion} → ${decision.decision}: ${decision.reason}`);
      expect(decision).toMatchObject({ decidedBy: "schedule", decision: "promoted", toVersion: run.latestVersion });
    },
    covering(4),
  );
});
