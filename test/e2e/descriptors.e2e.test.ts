/**
 * `wrangler dev` stays up through the README's CLI example (docs/wrangler-dev.md): a 100-group training
 * run on sim-train, then an evaluation of sim-test comparing its version with none. Meanwhile the open
 * descriptors of wrangler's workerd processes are sampled from /proc; before the fixes, the proxy's
 * process held about 700 sockets after the run and thousands during the evaluation, and the Worker's
 * process could abort (a stub warning captured a stack trace inside the garbage collector), after
 * which nothing answered again.
 */
import { afterAll, describe, expect, it } from "vitest";
import { adminClient, type AdminClient } from "../../cli/adminClient";
import { groupDescriptors, type Descriptors } from "../../scripts/lib/descriptors";
import { randomEncryptionKey, startWranglerDev, type WranglerDev } from "../../scripts/lib/wranglerDev";

const TOKEN = "descriptors-admin-token";
/**
 * Peak sockets allowed in any workerd process. Measured here: at most 16 with the fixes; 1,685 under
 * `wrangler dev` with its inspector (`inspector: true`), after which the evaluation never answered again.
 */
const MAX_SOCKETS = 150;
/** Descriptors besides the engine's three per Workflow instance (measured with the fixes: at most 33). */
const MAX_OTHER = 150;

type Peak = { pid: number; command: string; sockets: number; total: number; sqlite: number };

let dev: WranglerDev | undefined;
afterAll(async () => {
  await dev?.stop();
});

async function waitFinished<T extends { status: string }>(api: AdminClient, path: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const x = await api.get<T>(path);
    if (x.status !== "queued" && x.status !== "running") return x;
    if (Date.now() > deadline) throw new Error(`${path} still ${x.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

describe("wrangler dev under a training run and an evaluation", () => {
  it("keeps the open descriptors of its workerd processes bounded and keeps answering", async () => {
    dev = await startWranglerDev({ vars: { ADMIN_TOKEN: TOKEN, ENCRYPTION_KEY: randomEncryptionKey() } });
    const pgid = dev.pgid;
    const api = adminClient({ url: dev.url, token: TOKEN });

    const peaks = new Map<number, Peak>();
    let processes = 0;
    let fewest = Infinity;
    const sample = () => {
      const now: Descriptors[] = groupDescriptors(pgid, "workerd");
      processes = Math.max(processes, now.length);
      fewest = Math.min(fewest, now.length);
      for (const d of now) {
        const p = peaks.get(d.pid) ?? { pid: d.pid, command: d.command, sockets: 0, total: 0, sqlite: 0 };
        peaks.set(d.pid, {
          ...p,
          sockets: Math.max(p.sockets, d.sockets),
          total: Math.max(p.total, d.total),
          sqlite: Math.max(p.sqlite, d.sqlite),
        });
      }
    };
    sample();
    const timer = setInterval(sample, 250);
    let instances = 0;
    try {
      await api.post("/agents", {
        name: "fd",
        upstream: { baseUrl: "sim://local", model: "sim-1" },
        systemPrompt: "Solve it; answer in \\boxed{}.",
        verifier: { kind: "math" },
      });
      for (const name of ["sim-train", "sim-test"]) await api.post(`/datasets/builtin/${name}`);

      const run = await api.post<{ id: string; plan: { segments: { instances: number }; lanes: { instances: number } } }>("/runs", {
        agent: "fd",
        dataset: "sim-train",
        epochs: 1,
        seed: 1,
      });
      const trained = await waitFinished<{ status: string; latestVersion: number; progress: { groupsDone: number } }>(
        api,
        `/runs/${run.id}`,
        300_000,
      );
      expect(trained.status).toBe("completed");
      expect(trained.progress.groupsDone).toBe(100);
      // The run's own instance, its segments and its lanes (docs/architecture.md §4).
      instances += 1 + run.plan.segments.instances + run.plan.lanes.instances;

      const evaluation = await api.post<{ id: string }>("/evaluations", {
        agent: "fd",
        dataset: "sim-test",
        versions: [trained.latestVersion, "none"],
      });
      const evaluated = await waitFinished<{ status: string; progress: { scored: number; total: number }; params: { chunkSize: number } }>(
        api,
        `/evaluations/${evaluation.id}`,
        420_000,
      );
      expect(evaluated.status).toBe("completed");
      expect(evaluated.progress.scored).toBe(600);
      instances += 1 + Math.ceil(300 / evaluated.params.chunkSize);

      const health = await fetch(`${dev.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
      expect(health.status).toBe(200);
    } finally {
      clearInterval(timer);
      sample();
      const lines = [...peaks.values()].map(
        (p) => `  pid ${p.pid}: peak ${p.sockets} sockets, ${p.total} descriptors (${p.sqlite} SQLite) — ${p.command.slice(0, 90)}`,
      );
      console.log(
        `workerd descriptors over a 100-group run and an evaluation of 300 questions × 2 versions × k=4 (${instances} Workflow instances):\n${lines.join("\n")}`,
      );
    }

    // Neither workerd process died (the Worker's process used to abort during the evaluation).
    expect(processes).toBe(2);
    expect(fewest).toBe(2);
    for (const p of peaks.values()) {
      expect(p.sockets, `sockets of ${p.command}`).toBeLessThanOrEqual(MAX_SOCKETS);
      // The engine keeps three files per Workflow instance that has run; everything else stays flat.
      expect(p.total - p.sqlite, `descriptors of ${p.command}`).toBeLessThanOrEqual(MAX_OTHER);
      // (plus a few Durable Objects of the local runtime itself: D1, the engine's bookkeeping).
      expect(p.sqlite).toBeLessThanOrEqual(3 * (instances + 20));
    }
  }, 780_000);
});
