import { env, introspectWorkflow } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { GROUP_STEPS, TRAINING_STEPS } from "../../workflows/steps";
import { createSimAgent, uploadSlice, waitFor, waitForRun } from "./evalHelpers";
import { call, json } from "./helpers";

/**
 * POST /api/runs/{id}/recover finishes runs that nudging alone cannot move (issue 16): a wave whose
 * spawn never happened (its group instances were never created) and group reports that never reached
 * the run. The engine's test hooks produce both: the spawn step or the groups' notify step is replaced
 * by its result without running.
 */

const SETTINGS = { dataset: "recovering-runs", epochs: 1, groupSize: 3, batchSize: 4, maxGroupsInFlight: 4, seed: 3 };
type RunState = { status: string; progress: { groupsDone: number; groupsTotal: number } };
type Recovery = { run: string; groups: number; recreated: number; restarted: number; reports: number };

const rows = async <T>(query: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...binds)
      .all<T>()
  ).results;
const run = async (id: string) => json<RunState>(await call("GET", `/api/runs/${id}`));

/** Starts a run and waits until it has stayed without progress for a while (nothing more will come). */
async function stalledRun(agent: string, groupsBefore: number): Promise<string> {
  const res = await call("POST", "/api/runs", { agent, ...SETTINGS });
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

beforeAll(async () => {
  await uploadSlice(SETTINGS.dataset, "sim-train", 0, 8);
  await createSimAgent("recovering-spawn");
  await createSimAgent("recovering-reports");
  await createSimAgent("recovering-steady");
});

describe("run recovery", () => {
  it("creates the group instances of a wave whose spawn never happened, and the run completes as an uninterrupted one", async () => {
    // The uninterrupted run first: the engine's test hooks apply to every instance made while they are on.
    const steady = await json<{ id: string }>(await call("POST", "/api/runs", { agent: "recovering-steady", ...SETTINGS }));
    const uninterrupted = await waitForRun(steady.id);
    expect(uninterrupted.status).toBe("completed");

    await using runs = await introspectWorkflow(env.TRAINING_RUN);
    await runs.modifyAll(async (m) => {
      // The spawn of the first batch's only wave "succeeded" without creating anything, as when the
      // local engine stopped before it started the instances it had been asked to create.
      await m.mockStepResult({ name: TRAINING_STEPS.spawn(1, 0, 0) }, 4);
    });
    const id = await stalledRun("recovering-spawn", 0);

    const res = await call("POST", `/api/runs/${id}/recover`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json<Recovery>(res)).toMatchObject({
      recreated: 4,
      restarted: 0,
      reports: 0,
      run: expect.stringMatching(/^pause\+resume/),
    });

    const done = await waitForRun(id);
    expect(done).toMatchObject({ status: "completed", error: null });
    const [groups] = await rows<{ n: number }>("SELECT count(*) AS n FROM groups WHERE run_id = ?", id);
    expect(groups!.n).toBe(8);

    // The same library as the run that was never interrupted.
    const items = async (agent: string, version: number) =>
      (
        await json<{ items: { id: string; name: string; text: string }[] }>(
          await call("GET", `/api/agents/${agent}/library/versions/${version}`),
        )
      ).items.map(({ id: i, name, text }) => ({ i, name, text }));
    const learned = await items("recovering-spawn", done.latestVersion);
    expect(learned.length).toBeGreaterThan(0);
    expect(learned).toEqual(await items("recovering-steady", uninterrupted.latestVersion));
  });

  it("sends again the reports that never reached the run, from what the group instances stored", async () => {
    await using groups = await introspectWorkflow(env.ROLLOUT_GROUP);
    await groups.modifyAll(async (m) => {
      await m.mockStepResult({ name: GROUP_STEPS.notify }, true);
    });
    // Every group of the first batch records its outcome; none reports it.
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
    // The re-sent reports carry the steps each group used, as the lost ones would have.
    expect((JSON.parse(steps!.progress) as { steps: { groups: number } }).steps.groups).toBe(8 * 2);
  });

  it("POST /api/recovery recovers everything stalled at once, as npm start does after a restart, and records it", async () => {
    await using runs = await introspectWorkflow(env.TRAINING_RUN);
    await runs.modifyAll(async (m) => {
      await m.mockStepResult({ name: TRAINING_STEPS.spawn(1, 0, 0) }, 4);
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
      { kind: "run", id, action: expect.stringMatching(/^pause\+resume \(was (running|waiting)\); 4 group instance\(s\) re-created$/) },
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
