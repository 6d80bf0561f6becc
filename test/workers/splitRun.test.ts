import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { generateProblems, simDataset } from "../../src/sim";
import { laneInstanceId, segmentInstanceId, type LaneDone, type SegmentDone } from "../../src/durable/steps";
import { PRE_SPLIT_BATCHES, PRE_SPLIT_CALLS, PRE_SPLIT_LIBRARY, PRE_SPLIT_SAMPLES, PRE_SPLIT_SETTINGS } from "../fixtures/preSplitRun";
import { covering, createSimAgent, waitFor, waitForRun } from "./evalHelpers";
import { call, json } from "./helpers";

/**
 * A run split across instances (docs/architecture.md §4): the run's instance runs segments, each
 * segment fans its batches out to lanes. These tests look at the instances themselves, through the
 * engine's bindings.
 */

type Plan = {
  limit: number;
  reserve: number;
  run: { instances: number; maxSteps: number };
  segments: { instances: number; maxSteps: number; batchesEach: number; perEpoch: number };
  lanes: { instances: number; maxSteps: number; perBatch: number };
  totalSteps: number;
};
type RunView = {
  status: string;
  reason: string | null;
  error: string | null;
  latestVersion: number;
  progress: {
    groupsDone: number;
    groupsTotal: number;
    steps: { run: number; segments: number; lanes: number; maxPerInstance: number } | null;
  };
  plan: Plan;
  batches: {
    epoch: number;
    batch: number;
    status: string;
    version: number | null;
    groupsKept: number;
    groupsSkipped: number;
    operations: Record<string, number>;
  }[];
  llm: { stage: string; calls: number }[];
};

const view = async (id: string) => json<RunView>(await call("GET", `/api/runs/${id}`));
const rows = async <T>(query: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...binds)
      .all<T>()
  ).results;

/** The engine's status and output of an instance, or null when it was never created. */
async function instance<T>(workflow: Workflow<unknown>, id: string): Promise<{ status: string; output: T } | null> {
  const handle = await workflow.get(id).catch(() => null);
  if (!handle) return null;
  const { status, output } = await handle.status();
  return { status, output: output as T };
}

beforeAll(async () => {
  expect((await call("POST", "/api/datasets?name=pre-split", simDataset("sim-train").slice(0, PRE_SPLIT_SAMPLES))).status).toBe(201);
});

describe("a run split across segment and lane instances", () => {
  it(
    "learns, over four segments, the same library as the same seeded run before the split, batch by batch and call for call",
    async () => {
      await createSimAgent("split");
      // Two batches per segment: the 2 epochs × 4 batches run in 4 segments; 4 lanes per batch.
      const res = await call("POST", "/api/runs", { agent: "split", dataset: "pre-split", ...PRE_SPLIT_SETTINGS, segmentBatches: 2 });
      expect(res.status, await res.clone().text()).toBe(201);
      const created = await json<{ id: string; plan: Plan }>(res);
      expect(created.plan).toMatchObject({
        limit: 10_000,
        run: { instances: 1, maxSteps: 1 + 4 * 2 + 2 + 3 },
        segments: { instances: 4, batchesEach: 2, perEpoch: 2, maxSteps: 2 * (3 + 4) + 1 },
        lanes: { instances: 2 * 4 * 4, maxSteps: 2 + 1, perBatch: 4 },
      });
      const { id } = created;
      const done = await waitForRun(id, 200_000);
      expect(done).toMatchObject({ status: "completed", error: null });
      const run = await view(id);

      // The library, the batches and the calls of the run before the split.
      const library = await json<{ items: { id: string; name: string; text: string }[] }>(
        await call("GET", `/api/agents/split/library/versions/${run.latestVersion}`),
      );
      expect(library.items.map(({ id: itemId, name, text }) => ({ id: itemId, name, text }))).toEqual(PRE_SPLIT_LIBRARY);
      expect(
        run.batches.map(({ epoch, batch, status, version, groupsKept, groupsSkipped, operations }) => ({
          epoch,
          batch,
          status,
          version,
          groupsKept,
          groupsSkipped,
          operations,
        })),
      ).toEqual(PRE_SPLIT_BATCHES);
      expect(Object.fromEntries(run.llm.map((s) => [s.stage, s.calls]))).toEqual(PRE_SPLIT_CALLS);

      // The instances: 4 segments, each complete with the version its last batch made; 4 lanes per batch.
      for (const [epoch, segment, version] of [
        [1, 0, 2],
        [1, 1, 4],
        [2, 0, 6],
        [2, 1, 8],
      ] as const) {
        const s = await instance<SegmentDone>(env.TRAINING_SEGMENT, segmentInstanceId(id, epoch, segment));
        expect(s, `segment ${epoch}/${segment}`).toMatchObject({ status: "complete", output: { version, stop: null } });
        for (const batch of [2 * segment, 2 * segment + 1])
          for (let lane = 0; lane < 4; lane++) {
            const l = await instance<LaneDone>(env.ROLLOUT_LANE, laneInstanceId(id, epoch, batch, lane));
            // 6 groups dealt to 4 lanes: 2, 2, 1, 1; one step per group and the report.
            const groups = lane < 2 ? 2 : 1;
            expect(l, `lane ${epoch}/${batch}/${lane}`).toMatchObject({
              status: "complete",
              output: { groups, cancelled: false, steps: groups + 1 },
            });
          }
      }
      expect(await instance(env.TRAINING_SEGMENT, segmentInstanceId(id, 1, 2))).toBeNull();

      // The steps each kind of instance used, as planned: the run's count stops at its finish step (the gate is after it).
      const steps = run.progress.steps!;
      expect(steps).toEqual({ run: 1 + 4 * 2 + 2, segments: 4 * (2 * (3 + 4) + 1), lanes: 2 * 4 * (6 + 4), maxPerInstance: 15 });
      expect(steps.maxPerInstance).toBeLessThanOrEqual(
        Math.max(run.plan.segments.maxSteps, run.plan.run.maxSteps, run.plan.lanes.maxSteps),
      );
    },
    covering(4),
  );

  it(
    "accepts 3 epochs over 20,000 samples with every instance well inside the step limit, and stops it on cancel",
    async () => {
      const problems = generateProblems(909, 20_000, "scale");
      const upload = await call(
        "POST",
        "/api/datasets?name=twenty-thousand",
        problems.map(({ question, answer }) => ({ question, answer })),
      );
      expect(upload.status, await upload.clone().text()).toBe(201);
      await createSimAgent("large");
      const res = await call("POST", "/api/runs", { agent: "large", dataset: "twenty-thousand", epochs: 3 });
      expect(res.status, await res.clone().text()).toBe(201);
      const { id, plan } = await json<{ id: string; plan: Plan }>(res);
      // Batch 100, 16 in flight: 200 batches an epoch, 105 to a segment.
      expect(plan).toMatchObject({
        run: { instances: 1, maxSteps: 18 },
        segments: { instances: 6, perEpoch: 2, batchesEach: 105, maxSteps: 1996 },
        lanes: { instances: 9600, maxSteps: 8, perBatch: 16 },
      });
      for (const kind of [plan.run, plan.segments, plan.lanes]) expect(kind.maxSteps).toBeLessThanOrEqual(plan.limit - plan.reserve);
      expect((await view(id)).plan).toEqual(plan);
      expect((await call("POST", `/api/runs/${id}/cancel`)).status).toBe(200);
      expect(await waitForRun(id)).toMatchObject({ status: "cancelled" });
    },
    covering(1, 60_000),
  );

  it(
    "cancel stops the children: lanes take no further group, the segment applies no batch, no later segment starts",
    async () => {
      // Slow enough that the cancel lands while lanes still have groups to run.
      await createSimAgent("stopped", { upstream: { baseUrl: "sim://local?latency_ms=250", model: "sim-1" } });
      const res = await call("POST", "/api/runs", {
        agent: "stopped",
        dataset: "pre-split",
        epochs: 2,
        batchSize: 12,
        groupSize: 3,
        maxGroupsInFlight: 3,
        segmentBatches: 1,
        seed: 5,
      });
      const { id } = await json<{ id: string }>(res);
      await waitFor(
        "a first group recorded",
        () => view(id),
        (r) => r.progress.groupsDone >= 1,
      );
      expect((await call("POST", `/api/runs/${id}/cancel`)).status).toBe(200);
      // The row says cancelled at once; the instances stop as they find it.
      expect((await waitForRun(id)).status).toBe("cancelled");
      await waitFor(
        "the run's instance ended",
        () => instance(env.TRAINING_RUN, id),
        (r) => r?.status === "complete",
      );

      // Every lane of the first batch ended; those with groups left say they stopped for the cancel.
      const lanes = await Promise.all([0, 1, 2].map((lane) => instance<LaneDone>(env.ROLLOUT_LANE, laneInstanceId(id, 1, 0, lane))));
      for (const l of lanes) expect(l?.status).toBe("complete");
      expect(lanes.some((l) => l?.output.cancelled)).toBe(true);
      const groupsRun = lanes.reduce((n, l) => n + (l?.output.groups ?? 0), 0);
      expect(groupsRun).toBeLessThan(12);
      // The segment stopped without applying its batch; the next segment was never created.
      const segment = await instance<SegmentDone>(env.TRAINING_SEGMENT, segmentInstanceId(id, 1, 0));
      expect(segment).toMatchObject({ status: "complete", output: { stop: { status: "cancelled" } } });
      expect(await instance(env.TRAINING_SEGMENT, segmentInstanceId(id, 1, 1))).toBeNull();
      expect(await rows("SELECT 1 FROM batches WHERE run_id = ?", id)).toEqual([]);
      // Nothing is paid for after the run ended.
      const calls = async () => (await rows<{ n: number }>("SELECT count(*) AS n FROM llm_calls WHERE owner_id = ?", id))[0]!.n;
      const before = await calls();
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await calls()).toBe(before);
      expect((await view(id)).progress.groupsDone).toBe(groupsRun);
    },
    covering(2),
  );

  it(
    "stops at the token budget inside a segment: the segment reports the stop and no later segment starts",
    async () => {
      await createSimAgent("budgeted");
      // One token: the first batch crosses it, and the checkpoint of the second batch (same segment) stops the run.
      const res = await call("POST", "/api/runs", {
        agent: "budgeted",
        dataset: "pre-split",
        ...PRE_SPLIT_SETTINGS,
        segmentBatches: 2,
        budgetTokens: 1,
      });
      const { id } = await json<{ id: string }>(res);
      await waitFor(
        "the run's instance ended",
        () => instance(env.TRAINING_RUN, id),
        (r) => r?.status === "complete",
      );
      const run = await view(id);
      expect(run).toMatchObject({ status: "completed", reason: "budget", latestVersion: 1 });
      expect(run.batches.map((b) => [b.epoch, b.batch, b.version])).toEqual([[1, 0, 1]]);
      const segment = await instance<SegmentDone>(env.TRAINING_SEGMENT, segmentInstanceId(id, 1, 0));
      expect(segment).toMatchObject({ status: "complete", output: { version: 1, stop: { status: "completed", reason: "budget" } } });
      expect(await instance(env.TRAINING_SEGMENT, segmentInstanceId(id, 1, 1))).toBeNull();
    },
    covering(1),
  );

  it(
    "warm-starts from a version, and each segment starts from the version the one before it ended with",
    async () => {
      await createSimAgent("warm");
      // A first run makes versions 1 and 2; the second starts from version 1.
      const first = await json<{ id: string }>(
        await call("POST", "/api/runs", { agent: "warm", dataset: "pre-split", ...PRE_SPLIT_SETTINGS, epochs: 1, batchSize: 12 }),
      );
      expect(await waitForRun(first.id)).toMatchObject({ status: "completed", latestVersion: 2 });
      const res = await call("POST", "/api/runs", {
        agent: "warm",
        dataset: "pre-split",
        ...PRE_SPLIT_SETTINGS,
        epochs: 1,
        segmentBatches: 1,
        fromVersion: 1,
      });
      const { id } = await json<{ id: string }>(res);
      const done = await waitForRun(id, 100_000);
      expect(done.status).toBe("completed");
      const run = await view(id);
      // Four batches, one segment each: each segment starts where the previous one ended.
      const starts = await Promise.all(
        [0, 1, 2, 3].map(async (k) => (await instance<SegmentDone>(env.TRAINING_SEGMENT, segmentInstanceId(id, 1, k)))?.output.version),
      );
      // The version after each batch: the one it made, else the one before (a batch that changes nothing keeps it).
      let current = 1;
      const after = run.batches.map((b) => (current = b.version ?? current));
      expect(run.batches).toHaveLength(4);
      expect(starts).toEqual(after);
      // The first batch's lanes were prompted with version 1, the warm start.
      const [first0] = await rows<{ prompt_version: number }>(
        "SELECT DISTINCT prompt_version FROM rollouts WHERE run_id = ? AND batch = 0",
        id,
      );
      expect(first0?.prompt_version).toBe(1);
      const versions = await rows<{ version: number; parent_version: number }>(
        "SELECT version, parent_version FROM library_versions WHERE run_id = ? ORDER BY version",
        id,
      );
      expect(versions.length).toBeGreaterThan(0);
      expect(versions.map((v) => v.parent_version)).toEqual([1, ...versions.slice(0, -1).map((v) => v.version)]);
    },
    covering(2),
  );
});
