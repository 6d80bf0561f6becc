/**
 * `npm start` watches its local stack (scripts/start/stack.ts): when the workerd process running the
 * Worker dies in the middle of a run (as it did under `wrangler dev`, docs/wrangler-dev.md), npm start
 * says so, starts the stack again on the same state, recovers the run, and the run finishes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { adminClient, type Run } from "../../cli/adminClient";
import { groupDescriptors } from "../../scripts/lib/descriptors";
import { freePort } from "../../scripts/lib/wranglerDev";
import { simDataset } from "../../src/sim";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "tfgrpo-watch-e2e-"));
const state = join(tmp, "state");
let child: ChildProcess | undefined;
let closed: Promise<void> | undefined;

afterAll(async () => {
  if (child?.pid !== undefined && closed) {
    process.kill(-child.pid, "SIGTERM");
    const timer = setTimeout(() => child?.pid !== undefined && process.kill(-child.pid, "SIGKILL"), 20_000);
    await closed;
    clearTimeout(timer);
  }
  rmSync(tmp, { recursive: true, force: true });
});

/** The process group of the dev server serving `stateDir` (its command line names the directory). */
function devServerGroup(stateDir: string): number | null {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (cmd.some((a) => a.endsWith("devServer.ts")) && cmd.includes(stateDir)) return Number(entry);
    } catch {
      // ended meanwhile
    }
  }
  return null;
}

async function until<T>(what: string, get: () => T | Promise<T>, ok: (t: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("npm start's watch over its local stack", () => {
  it("restarts the stack on the same state when the Worker's process dies, saying so, and the run in flight finishes", async () => {
    const port = await freePort();
    child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), TFGRPO_STATE_DIR: state, TFGRPO_DEV_VARS: join(tmp, "dev.vars"), TFGRPO_NO_DEMO: "1" },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const proc = child;
    closed = new Promise((r) => proc.once("close", () => r()));
    let out = "";
    proc.stdout?.on("data", (b: Buffer) => (out += b.toString("utf8")));
    proc.stderr?.on("data", (b: Buffer) => (out += b.toString("utf8")));
    await until(
      "serving",
      () => out,
      (o) => /serving on http/.test(o),
      180_000,
    );

    const token = /ADMIN_TOKEN=(\S+)/.exec(readFileSync(join(tmp, "dev.vars"), "utf8"))?.[1] ?? "";
    const api = adminClient({ url: `http://127.0.0.1:${port}`, token });
    // Slow replies (400 ms) keep the run going long enough to be cut in the middle.
    await api.post("/agents", {
      name: "watched",
      upstream: { baseUrl: "sim://local?latency_ms=400", model: "sim-1" },
      systemPrompt: "Solve it; answer in \\boxed{}.",
      verifier: { kind: "math" },
    });
    await api.request("POST", "/datasets", {
      query: { name: "watched-set" },
      raw: simDataset("sim-train")
        .slice(0, 24)
        .map((r) => JSON.stringify(r))
        .join("\n"),
      contentType: "application/x-ndjson",
    });
    const { id } = await api.post<{ id: string }>("/runs", {
      agent: "watched",
      dataset: "watched-set",
      epochs: 2,
      groupSize: 3,
      batchSize: 12,
      maxGroupsInFlight: 6,
      seed: 2,
    });
    const under = await until(
      `run ${id} under way`,
      () => api.get<Run>(`/runs/${id}`),
      (r) => r.progress.groupsDone >= 4,
      120_000,
    );
    expect(under.status).toBe("running");

    // The Worker's process dies, as an aborted workerd did: the proxy's process keeps listening.
    const pgid = await until(
      "the dev server",
      () => devServerGroup(state),
      (g) => g !== null,
      10_000,
    );
    const worker = groupDescriptors(pgid!, "workerd").find((d) => !d.command.includes(`127.0.0.1:${port} `));
    expect(worker, "the Worker's workerd process").toBeDefined();
    process.kill(worker!.pid, "SIGKILL");

    await until(
      "a restart",
      () => out,
      (o) => /wrangler dev is back on/.test(o),
      120_000,
    );
    expect(out).toMatch(/wrangler dev stopped \(1 of its 2 workerd processes exited\); restarting it on the same state/);
    expect(out).toMatch(new RegExp(`recovered run ${id}: `));
    const done = await until(
      `run ${id} finished`,
      () => api.get<Run>(`/runs/${id}`),
      (r) => r.status !== "running" && r.status !== "queued",
      240_000,
    );
    expect(done).toMatchObject({ status: "completed", error: null });
    expect(done.progress.groupsDone).toBe(48);
    console.log(
      out
        .split("\n")
        .filter((l) => /wrangler dev (stopped|is back)|recovered /.test(l))
        .join("\n"),
    );
  }, 720_000);
});
