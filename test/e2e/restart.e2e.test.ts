import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { simDataset, simToolDataset } from "../../src/sim";
import { adminClient } from "../../cli/adminClient";
import { randomEncryptionKey, startWranglerDev, type WranglerDev } from "../../scripts/lib/wranglerDev";
import { startSimServer, type SimServer } from "../../scripts/simServer";

const TOKEN = "restart-admin-token";
/** Most texts go to R2 (docs/architecture.md §11), so the restart is survived with them there. */
const VARS = { ADMIN_TOKEN: TOKEN, ENCRYPTION_KEY: randomEncryptionKey(), TEXT_INLINE_MAX_BYTES: "128" };

/** Plain chat rollouts, and (kept small) ReAct rollouts with the code tool: both must survive a restart. */
const VARIANTS = [
  {
    label: "plain",
    problems: () => simDataset("sim-train").slice(0, 24),
    agent: { systemPrompt: "Solve it; answer in \\boxed{}.", verifier: { kind: "math" } },
    settings: { dataset: "restart-set", epochs: 2, groupSize: 3, maxGroupsInFlight: 6, batchSize: 12, seed: 5, timeoutMs: 5000 },
    killAfterGroups: 8,
  },
  {
    label: "tools",
    problems: () => simToolDataset("sim-tools-train").slice(0, 12),
    agent: {
      systemPrompt: "Answer exactly. You may run JavaScript with execute_code. Give the final answer in \\boxed{}.",
      verifier: { kind: "math" },
      tools: [{ type: "code" }],
      maxTurns: 4,
    },
    settings: { dataset: "restart-tools", epochs: 1, groupSize: 3, maxGroupsInFlight: 6, batchSize: 12, seed: 5, timeoutMs: 5000 },
    killAfterGroups: 4,
  },
] as const;

type RunView = {
  status: string;
  error: string | null;
  latestVersion: number;
  progress: { groupsDone: number; groupsTotal: number; rolloutsDone: number; rolloutsTotal: number };
  llm: { stage: string; calls: number }[];
};
type Item = { id: string; name: string; text: string };

/** Longest waits of the test, so that its timeout covers them all. */
const WAIT = { beforeKill: 120_000, resumed: 240_000, uninterrupted: 240_000, devStart: 2 * (90_000 + 120_000), d1Query: 120_000 };
const TIMEOUT = Object.values(WAIT).reduce((a, b) => a + b, 0) + 60_000;

/** Reads the local D1 of a stopped wrangler dev (its persisted state) with `wrangler d1 execute`. */
function queryStoppedD1<T>(persistDir: string, sql: string): T[] {
  const r = spawnSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", persistDir, "--json", "--command", sql], {
    encoding: "utf8",
    timeout: WAIT.d1Query,
    env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
  });
  if (r.status !== 0) throw new Error(`wrangler d1 execute failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return (JSON.parse(r.stdout) as { results: T[] }[])[0]?.results ?? [];
}

/** The shared admin client, bound to whichever wrangler dev is current (it restarts mid-test). */
function client(dev: () => WranglerDev) {
  return <T>(method: string, path: string, body?: unknown) =>
    adminClient({ url: dev().url, token: TOKEN }).request<T>(method, path.replace(/^\/api/, ""), { body });
}

describe.each(VARIANTS)(
  "a training run survives wrangler dev being killed mid-run ($label)",
  ({ label, problems, agent, settings: SETTINGS, killAfterGroups }) => {
    const state = mkdtempSync(join(tmpdir(), "tfgrpo-restart-"));
    let sim: SimServer;
    let dev: WranglerDev;
    const api = client(() => dev);

    afterAll(async () => {
      await dev?.stop();
      await sim?.close();
      rmSync(state, { recursive: true, force: true });
    });

    async function waitFor(
      id: string,
      until: (run: RunView) => boolean,
      timeoutMs: number,
      onStall?: () => Promise<void>,
    ): Promise<RunView> {
      const deadline = Date.now() + timeoutMs;
      let last = -1;
      let lastChange = Date.now();
      for (;;) {
        const run = await api<RunView>("GET", `/api/runs/${id}`);
        if (until(run)) return run;
        if (Date.now() > deadline) throw new Error(`run ${id} did not get there: ${JSON.stringify(run)}`);
        const done = run.progress.rolloutsDone + run.progress.groupsDone;
        if (done !== last) {
          last = done;
          lastChange = Date.now();
        } else if (onStall && Date.now() - lastChange > 8_000) {
          await onStall();
          lastChange = Date.now();
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    }

    it(
      "resumes after a restart with no duplicated rollout, no stored call requested again, and the same library as an uninterrupted run",
      async () => {
        sim = await startSimServer({ latencyMs: 150, jitterMs: 15 });
        dev = await startWranglerDev({ vars: VARS, persistDir: state });
        await api("POST", `/api/datasets?name=${SETTINGS.dataset}`, problems());
        // Each agent reaches the model under a path of its own, so the model's log keeps their calls apart.
        const base = new URL(sim.url);
        const scope = (name: string) => `/${name}${base.pathname}`;
        for (const name of ["crashed", "steady"]) {
          const baseUrl = `${base.origin}${scope(name)}`;
          await api("POST", "/api/agents", { name, upstream: { baseUrl, model: "sim-1" }, ...agent });
        }

        const { id } = await api<{ id: string }>("POST", "/api/runs", { agent: "crashed", ...SETTINGS });
        const before = await waitFor(id, (r) => r.progress.groupsDone >= killAfterGroups, WAIT.beforeKill);
        expect(before.status).toBe("running");
        await dev.kill();
        // Requests the model received up to here came from the killed server; later ones from its successor.
        await new Promise((r) => setTimeout(r, 500));
        const killedAt = sim.inspect().seq;
        const storedBeforeKill =
          queryStoppedD1<{ n: number }>(state, `SELECT count(*) AS n FROM llm_calls WHERE owner_id = '${id}'`)[0]?.n ?? 0;
        expect(storedBeforeKill).toBeGreaterThan(0);
        const inR2BeforeKill =
          queryStoppedD1<{ n: number }>(
            state,
            `SELECT count(*) AS n FROM llm_calls WHERE owner_id = '${id}' AND response_ref IS NOT NULL`,
          )[0]?.n ?? 0;
        expect(inR2BeforeKill).toBeGreaterThan(0);

        dev = await startWranglerDev({ vars: VARS, persistDir: state, migrateBinding: null });
        // The local engine reports the instance as running but does not continue it by itself; the
        // product notices the stall and recovers it (pause, then resume) — here through the admin route
        // that the cron trigger also uses.
        let recoveries = 0;
        const crashed = await waitFor(
          id,
          (r) => r.status !== "running",
          WAIT.resumed,
          async () => {
            recoveries++;
            await api("POST", `/api/runs/${id}/recover`);
          },
        );
        expect(crashed.error).toBeNull();
        expect(crashed.status).toBe("completed");
        expect(crashed.progress.rolloutsDone).toBe(crashed.progress.rolloutsTotal);
        console.log(
          `restart (${label}): run resumed after ${recoveries} recovery nudge(s); ${before.progress.groupsDone} groups were done before the kill`,
        );

        const steady = await api<{ id: string }>("POST", "/api/runs", { agent: "steady", ...SETTINGS });
        const uninterrupted = await waitFor(steady.id, (r) => r.status !== "running" && r.status !== "queued", WAIT.uninterrupted);
        expect(uninterrupted.status).toBe("completed");

        const library = async (agent: string, version: number) =>
          (await api<{ items: Item[] }>("GET", `/api/agents/${agent}/library/versions/${version}`)).items.map(
            ({ id: itemId, name, text }) => ({ itemId, name, text }),
          );
        const a = await library("crashed", crashed.latestVersion);
        const b = await library("steady", uninterrupted.latestVersion);
        expect(a.length).toBeGreaterThan(0);
        expect(a).toEqual(b);

        // Every rollout exists exactly once, and no stored call was paid for twice.
        type Stored = { epoch: number; sampleIdx: number; rolloutIdx: number; toolCalls: number; messages: unknown[] | null };
        const rollouts = await api<{ data: Stored[] }>("GET", `/api/runs/${id}/rollouts?limit=500`);
        const keys = new Set(rollouts.data.map((r) => `${r.epoch}/${r.sampleIdx}/${r.rolloutIdx}`));
        expect(rollouts.data.length).toBe(crashed.progress.rolloutsTotal);
        expect(keys.size).toBe(rollouts.data.length);
        const calls = (run: RunView) => Object.fromEntries(run.llm.map((s) => [s.stage, s.calls]));
        expect(calls(crashed)).toEqual(calls(uninterrupted));
        // The same trajectories (tool calls and their results included), rollout by rollout.
        const trajectories = (rows: Stored[]) =>
          rows
            .map((r) => ({ key: `${r.epoch}/${r.sampleIdx}/${r.rolloutIdx}`, toolCalls: r.toolCalls, messages: r.messages }))
            .sort((x, y) => x.key.localeCompare(y.key));
        const steadyRollouts = await api<{ data: Stored[] }>("GET", `/api/runs/${steady.id}/rollouts?limit=500`);
        expect(trajectories(rollouts.data)).toEqual(trajectories(steadyRollouts.data));
        const storage = await api<{ r2: { objects: number; bytes: number } }>("GET", `/api/runs/${id}/storage`);
        expect(storage.r2.objects).toBeGreaterThan(0);
        const toolCalls = rollouts.data.reduce((n, r) => n + r.toolCalls, 0);
        if (label === "tools") expect(toolCalls).toBeGreaterThan(0);
        console.log(
          `restart (${label}): ${a.length} library items identical; ${toolCalls} tool calls in ${rollouts.data.length} rollouts, trajectories identical; ` +
            `${inR2BeforeKill} calls in R2 before the kill, ${storage.r2.objects} objects (${storage.r2.bytes} bytes) in R2 at the end`,
        );

        // What the model itself received, per call (no faults are injected here, so every request is answered).
        const total = (run: RunView) => run.llm.reduce((n, s) => n + s.calls, 0);
        const steadyLog = sim.inspect().calls(scope("steady"));
        expect(steadyLog).toHaveLength(total(uninterrupted));
        expect(steadyLog.filter((c) => c.requests !== 1)).toEqual([]);
        const crashedLog = sim.inspect().calls(scope("crashed"));
        expect(crashedLog).toHaveLength(total(crashed));
        // A call requested before the kill was either stored then (and must never be requested again) or
        // not (its reply was lost with the server, or it was still in flight): only those may be asked again.
        const askedBefore = crashedLog.filter((c) => c.firstSeq <= killedAt);
        const askedAgain = askedBefore.filter((c) => c.lastSeq > killedAt);
        console.log(
          `restart (${label}): ${askedBefore.length} calls requested before the kill, ${storedBeforeKill} of them stored; ` +
            `${askedAgain.length} requested again after it; ${crashedLog.length - askedBefore.length} first requested after it`,
        );
        expect(askedBefore.length).toBeGreaterThanOrEqual(storedBeforeKill);
        expect(askedAgain.length).toBeLessThanOrEqual(askedBefore.length - storedBeforeKill);
      },
      TIMEOUT,
    );
  },
);
