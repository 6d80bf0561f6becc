import { env, introspectWorkflow } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { LANE_STEPS, SEGMENT_STEPS, TRAINING_STEPS, laneInstanceId, segmentInstanceId } from "../../src/durable/steps";
import { createSimAgent, uploadSlice, waitFor, waitForRun } from "./evalHelpers";
import { call, json } from "./helpers";

/**
 * POST /api/runs/{id}/recover finishes runs that nudging alone cannot move (issue 16), across the run's
 * instances (docs/architecture.md §4): lanes or segments whose spawn never happened, reports of lanes or
 * segments that never reached their parent, and children left paused. The engine's test hooks produce
 * the first two: a spawn step or a notify step is replaced by its result without running.
 */

/** Two batches of 4 groups, 4 lanes of one group each; one segment, or one per batch with `segmentBatches: 1`. */
const SETTINGS = { dataset: "recovering-runs", epochs: 1, groupSize: 3, batchSize: 4, maxGroupsInFlight: 4, seed: 3 };
type RunState = { status: string; latestVersion: number; progress: { groupsDone: number; groupsTotal: number } };
type Recovery = { run: string; segments: number; lanes: number; recreated: number; restarted: number; reports: number };

const rows = async <T>(query: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...binds)
      .all<T>()
  ).results;
const run = async (id: string) => json<RunState>(await call("GET", `/api/runs/${id}`));

/** Starts a run and waits until it has stayed without progress for a while (nothing more will come). */
async function stalledRun(agent: string, groupsBefore: number, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/api/runs", { agent, ...SETTINGS, ...extra });
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = await json<{ id: string }>(res);
  await waitFor(
    `run ${id} at its wait`,
    () => run(id),
    (r) => r.status === "running" && r.progress.groupsDone === groupsBefore,
  );
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await run(id)).toMatchObject({ status: "running", progress: { groupsDone: groupsBefore } });
  return id;
}

const items = async (agent: string, version: number) =>
  (
    await json<{ items: { id: string; name: string; text: string }[] }>(
      await call("GET", `/api/agents/${agent}/library/versions/${version}`),
    )
  ).items.map(({ id: i, name, text }) => ({ i, name, text }));

let steadyLibrary: { i: string; name: string; text: string }[] = [];

beforeAll(async () => {
  await uploadSlice(SETTINGS.dataset, "sim-train", 0, 8);
  for (const agent of [
    "recovering-spawn",
    "recovering-reports",
    "recovering-segment",
    "recovering-next",
    "recovering-segment-report",
    "recovering-steady",
  ])
    await createSimAgent(agent);
  // Slow enough to pause its instances in the middle of the first batch.
  await createSimAgent("recovering-paused", { upstream: { baseUrl: "sim://local?latency_ms=400", model: "sim-1" } });
  // The uninterrupted run first: the engine's test hooks apply to every instance made while they are on.
  const steady = await json<{ id: string }>(await call("POST", "/api/runs", { agent: "recovering-steady", ...SETTINGS }));
  const uninterrupted = await waitForRun(steady.id);
  expect(uninterrupted.status).toBe("completed");
  steadyLibrary = await items("recovering-steady", uninterrupted.latestVersion);
  expect(steadyLibrary.length).toBeGreaterThan(0);
});

/** A recovered run completes with the library of the run that was never interrupted. */
async function completesAsUninterrupted(id: string, agent: string): Promise<void> {
  const done = await waitForRun(id);
  expect(done).toMatchObject({ status: "completed", error: null });
  const [groups] = await rows<{ n: number }>("SELECT count(*) AS n FROM groups WHERE run_id = ?", id);
  expect(groups!.n).toBe(8);
  expect(await items(agent, done.latestVersion)).toEqual(steadyLibrary);
}

describe("run recovery", () => {
  it("creates the lane instances of a batch whose spawn never happened, and the run completes as an uninterrupted one", async () => {
    await using segments = await introspectWorkflow(env.TRAINING_SEGMENT);
    await segments.modifyAll(async (m) => {
      // The spawn of the first batch's lanes "succeeded" without creating anything, as when the local
      // engine stopped before it started the instances it had been asked to create.
      await m.mockStepResult({ name: SEGMENT_STEPS.spawn(1, 0) }, 4);
    });
    const id = await stalledRun("recovering-spawn", 0);

    const res = await call("POST", `/api/runs/${id}/recover`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json<Recovery>(res)).toMatchObject({
      segments: 1,
      lanes: 0,
      recreated: 4,
      restarted: 0,
      reports: 0,
      run: expect.stringMatching(/^pause\+resume/),
    });
    await completesAsUninterrupted(id, "recovering-spawn");
  });

  it("sends again the lanes' reports that never reached their segment, from what the lane instances stored", async () => {
    await using lanes = await introspectWorkflow(env.ROLLOUT_LANE);
    await lanes.modifyAll(async (m) => {
      await m.mockStepResult({ name: LANE_STEPS.notify }, true);
    });
    // Every group of the first batch records its outcome; no lane reports it.
    const id = await stalledRun("recovering-reports", 4);

    const res = await call("POST", `/api/runs/${id}/recover`);
    expect(res.status, await res.clone().text()).toBe(200);
    // Reports of the second batch are lost too, so it stalls again; recovering again moves it on.
    expect(await json<Recovery>(res)).toMatchObject({ recreated: 0, restarted: 0, reports: 4 });
    await waitFor(
      `run ${id} in its second batch`,
      () => run(id),
      (r) => r.progress.groupsDone === 8,
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await json<Recovery>(await call("POST", `/api/runs/${id}/recover`))).toMatchObject({ reports: 4 });

    const done = await waitForRun(id);
    expect(done).toMatchObject({ status: "completed", error: null });
    const [steps] = await rows<{ progress: string }>("SELECT progress FROM runs WHERE id = ?", id);
    // The re-sent reports carry the steps each lane used (its group and its report), as the lost ones would have.
    expect((JSON.parse(steps!.progress) as { steps: { lanes: number } }).steps.lanes).toBe(8 * 2);
  });

  it("creates a segment whose spawn by the run never happened", async () => {
    await using runs = await introspectWorkflow(env.TRAINING_RUN);
    await runs.modifyAll(async (m) => {
      await m.mockStepResult({ name: TRAINING_STEPS.spawnSegment(1, 0) }, true);
    });
    const id = await stalledRun("recovering-segment", 0);
    expect(await json<Recovery>(await call("POST", `/api/runs/${id}/recover`))).toMatchObject({ segments: 0, recreated: 1 });
    await completesAsUninterrupted(id, "recovering-segment");
  });

  it("creates the next segment when the one before it finished and the run's spawn of the next was lost", async () => {
    await using runs = await introspectWorkflow(env.TRAINING_RUN);
    await runs.modifyAll(async (m) => {
      await m.mockStepResult({ name: TRAINING_STEPS.spawnSegment(1, 1) }, true);
    });
    // One segment per batch: the first runs and reports, the second is never created.
    const id = await stalledRun("recovering-next", 4, { segmentBatches: 1 });
    const recovery = await json<Recovery>(await call("POST", `/api/runs/${id}/recover`));
    // The first segment's report is sent again (the run ignores a report it already has), the second is created.
    expect(recovery).toMatchObject({ recreated: 1, reports: 1 });
    await completesAsUninterrupted(id, "recovering-next");
    expect(await rows("SELECT 1 FROM groups WHERE run_id = ? GROUP BY epoch, sample_idx HAVING count(*) > 1", id)).toEqual([]);
  });

  it("sends again a segment's report that never reached the run, from the segment's stored output", async () => {
    await using segments = await introspectWorkflow(env.TRAINING_SEGMENT);
    await segments.modifyAll(async (m) => {
      await m.mockStepResult({ name: SEGMENT_STEPS.notify }, true);
    });
    const id = await stalledRun("recovering-segment-report", 4, { segmentBatches: 1 });
    expect(await json<Recovery>(await call("POST", `/api/runs/${id}/recover`))).toMatchObject({ reports: 1, recreated: 1 });
    // The second segment's report is lost too; recovering again moves the run on.
    await waitFor(
      `run ${id} in its second segment`,
      () => run(id),
      (r) => r.progress.groupsDone === 8,
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await json<Recovery>(await call("POST", `/api/runs/${id}/recover`))).toMatchObject({ reports: 1 });
    await completesAsUninterrupted(id, "recovering-segment-report");
  });

  it("nudges the segment and the lanes left paused, and the run completes", async () => {
    const res = await call("POST", "/api/runs", { agent: "recovering-paused", ...SETTINGS });
    const { id } = await json<{ id: string }>(res);
    const lane = (n: number) => env.ROLLOUT_LANE.get(laneInstanceId(id, 1, 0, n));
    await waitFor(
      "the first batch's lanes running",
      async () => Promise.all([0, 1, 2, 3].map(async (n) => (await (await lane(n).catch(() => null))?.status())?.status ?? "missing")),
      (s) => s.every((x) => x === "running" || x === "waiting"),
    );
    // As after a local restart: the segment and its lanes stop where they are.
    const segment = await env.TRAINING_SEGMENT.get(segmentInstanceId(id, 1, 0));
    await segment.pause();
    for (const n of [0, 1, 2, 3]) await (await lane(n)).pause();
    await new Promise((r) => setTimeout(r, 2_500));
    const stalled = await run(id);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await run(id)).toMatchObject({ status: "running", progress: { groupsDone: stalled.progress.groupsDone } });
    expect(stalled.progress.groupsDone).toBeLessThan(8);

    const recovery = await json<Recovery>(await call("POST", `/api/runs/${id}/recover`));
    expect(recovery).toMatchObject({ segments: 1, recreated: 0, restarted: 0 });
    // Lanes that finished their group before the pause took hold have ended; every other one was nudged.
    expect(recovery.lanes + recovery.reports).toBeGreaterThan(0);
    const done = await waitForRun(id);
    expect(done).toMatchObject({ status: "completed", error: null });
    expect(await items("recovering-paused", done.latestVersion)).toEqual(steadyLibrary);
  });

  it("POST /api/recovery recovers everything stalled at once, as npm start does after a restart, and records it", async () => {
    await using segments = await introspectWorkflow(env.TRAINING_SEGMENT);
    await segments.modifyAll(async (m) => {
      await m.mockStepResult({ name: SEGMENT_STEPS.spawn(1, 0) }, 4);
    });
    const id = await stalledRun("recovering-spawn", 0);

    const bad = await call("POST", "/api/recovery", { olderThanSeconds: -1 });
    expect(bad.status).toBe(400);
    // Nothing has been without progress for an hour: nothing is touched.
    expect(await json<{ data: unknown[] }>(await call("POST", "/api/recovery", { olderThanSeconds: 3600 }))).toEqual({ data: [] });

    const res = await call("POST", "/api/recovery", { olderThanSeconds: 0 });
    expect(res.status, await res.clone().text()).toBe(200);
    const { data } = await json<{ data: { kind: string; id: string; action: string }[] }>(res);
    expect(data).toEqual([
      {
        kind: "run",
        id,
        action: expect.stringMatching(
          /^pause\+resume \(was (running|waiting)\); 1 segment instance\(s\) nudged; 4 child instance\(s\) re-created$/,
        ),
      },
    ]);
    expect(await waitForRun(id)).toMatchObject({ status: "completed", error: null });
    const recorded = await rows<{ kind: string; action: string; detail: string }>(
      "SELECT kind, action, detail FROM recoveries WHERE target_id = ?",
      id,
    );
    expect(recorded).toEqual([{ kind: "run", action: data[0]!.action, detail: "recovery requested: no progress for 0 s or more" }]);
  });

  it("answers 409 for a finished run and 404 for an unknown one", async () => {
    const [finished] = await rows<{ id: string }>("SELECT id FROM runs WHERE status = 'completed' LIMIT 1");
    const again = await call("POST", `/api/runs/${finished!.id}/recover`);
    expect(again.status).toBe(409);
    expect((await call("POST", "/api/runs/run_missing/recover")).status).toBe(404);
  });
});
