/**
 * The `tfgrpo` CLI end to end: a real `wrangler dev`, the CLI run as a subprocess (`node bin/tfgrpo.mjs`)
 * with TFGRPO_URL/TFGRPO_TOKEN, through agents, keys, data sets, a training run, the library,
 * an evaluation and a promotion; `--json` output parses; failures exit non-zero with one line.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomEncryptionKey, startWranglerDev, type WranglerDev } from "../../scripts/lib/wranglerDev";
import { simDataset } from "../../src/sim/dataset";

const ROOT = resolve(import.meta.dirname, "../..");
const ADMIN_TOKEN = "e2e-cli-admin-token";
const tmp = mkdtempSync(join(tmpdir(), "tfgrpo-cli-e2e-"));
let dev: WranglerDev;

type Result = { code: number; stdout: string; stderr: string };

function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): Promise<Result> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      [join(ROOT, "bin/tfgrpo.mjs"), ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          TFGRPO_URL: dev.url,
          TFGRPO_TOKEN: ADMIN_TOKEN,
          TFGRPO_CONFIG: join(tmp, "none.json"),
          NO_COLOR: "1",
          ...env,
        },
        timeout: timeoutMs,
        maxBuffer: 20 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        if (error && typeof error.code !== "number") {
          // Killed by the timeout (the local engine sometimes stalls): what the CLI printed, whether
          // wrangler dev still answers, and what it logged.
          void probe().then((answer) => {
            console.error(
              `tfgrpo ${args.join(" ")} did not finish.\nIts stderr: ${stderr.slice(-3000)}\nwrangler dev now: ${answer}\nwrangler dev said:\n${dev.output().slice(-4000)}`,
            );
            resolveRun({ code, stdout, stderr });
          });
          return;
        }
        resolveRun({ code, stdout, stderr });
      },
    );
  });
}

/** Whether wrangler dev answers /healthz within 5 s. */
async function probe(): Promise<string> {
  try {
    const res = await fetch(`${dev.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    return `/healthz answered ${res.status}`;
  } catch (error) {
    return `/healthz did not answer (${error instanceof Error ? error.name : String(error)})`;
  }
}

/** Runs the CLI and expects success. */
async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`tfgrpo ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function okJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await ok(["--json", ...args])) as T;
}

const VARS = { ADMIN_TOKEN, ENCRYPTION_KEY: randomEncryptionKey() };

beforeAll(async () => {
  dev = await startWranglerDev({ vars: VARS });
}, 180_000);

afterAll(async () => {
  await dev?.stop();
  if (dev) rmSync(dev.persistDir, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

describe("tfgrpo CLI", () => {
  it("prints help everywhere", async () => {
    const top = await ok(["--help"]);
    for (const group of ["agents", "keys", "datasets", "runs", "library", "eval", "promote", "canary"]) expect(top).toContain(group);
    expect(await ok(["runs", "start", "--help"])).toContain("--group-size");
    expect(await ok(["datasets", "push", "--help"])).toContain("Example:");
  });

  it("fails with one line and a non-zero exit on a bad token, a missing URL or an unknown thing", async () => {
    const bad = await cli(["agents", "list"], { TFGRPO_TOKEN: "wrong" });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/^error: .*admin token.*\(HTTP 401/);

    const noUrl = await cli(["agents", "list"], { TFGRPO_URL: "" });
    expect(noUrl.code).not.toBe(0);
    expect(noUrl.stderr).toMatch(/^error: no API URL/);

    const missing = await cli(["agents", "show", "nobody"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim()).toMatch(/^error: .*not found.*HTTP 404/);
  });

  it("manages agents, keys, data sets, a run, the library, an evaluation and a promotion", async () => {
    // Agents.
    expect(
      await ok([
        "agents",
        "create",
        "cli",
        "--base-url",
        "sim://local",
        "--model",
        "sim-1",
        "--system-prompt",
        "Solve the word problem step by step and give the final answer in \\boxed{}.",
      ]),
    ).toMatch(/created agent cli/);
    const agents = await okJson<{ name: string; upstream: { model: string } }[]>(["agents", "list"]);
    expect(agents.map((a) => a.name)).toContain("cli");
    expect(await ok(["agents", "list"])).toMatch(/NAME\s+ID\s+MODEL/);
    const shown = await okJson<{ name: string; objective: string }>(["agents", "show", "cli"]);
    expect(shown.name).toBe("cli");
    await ok(["agents", "update", "cli", "--objective", "Get the pitfalls right."]);
    expect((await okJson<{ objective: string }>(["agents", "show", "cli"])).objective).toBe("Get the pitfalls right.");

    // Keys.
    const key = await okJson<{ id: string; key: string }>(["keys", "create", "cli", "--name", "e2e"]);
    expect(key.key).toMatch(/^tfg_/);
    expect((await okJson<{ id: string }[]>(["keys", "list", "cli"])).map((k) => k.id)).toContain(key.id);
    expect(await ok(["keys", "revoke", "cli", key.id])).toContain(`revoked ${key.id}`);
    expect(await okJson<unknown[]>(["keys", "list", "cli"])).toHaveLength(0);

    // Data sets: push a small JSONL (10 simulated problems), list, show, load a built-in.
    const file = join(tmp, "small.jsonl");
    writeFileSync(
      file,
      `${simDataset("sim-train")
        .slice(0, 10)
        .map((r) => JSON.stringify(r))
        .join("\n")}\n`,
    );
    const pushed = await okJson<{ name: string; sampleCount: number }>(["datasets", "push", file, "--name", "small"]);
    expect(pushed).toMatchObject({ name: "small", sampleCount: 10 });
    expect((await okJson<{ name: string }[]>(["datasets", "list"])).map((d) => d.name)).toContain("small");
    const showDs = await okJson<{ sampleCount: number; samples: unknown[] }>(["datasets", "show", "small", "--samples", "3"]);
    expect(showDs.samples).toHaveLength(3);
    expect(await ok(["datasets", "show", "small"])).toMatch(/QUESTION/);
    expect((await okJson<{ sampleCount: number }>(["datasets", "load", "sim-train"])).sampleCount).toBe(100);
    const again = await cli(["datasets", "load", "sim-train"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists.*HTTP 409/);

    // A run: start, watch until done, show.
    const run = await okJson<{ id: string }>([
      "runs",
      "start",
      "--agent",
      "cli",
      "--dataset",
      "small",
      "--epochs",
      "1",
      "--group-size",
      "3",
      "--seed",
      "1",
    ]);
    const watched = await cli(["runs", "watch", run.id]);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(new RegExp(`run ${run.id} completed: library version \\d+`));
    const shownRun = await okJson<{ status: string; latestVersion: number; progress: { groupsDone: number } }>(["runs", "show", run.id]);
    expect(shownRun.status).toBe("completed");
    expect(shownRun.progress.groupsDone).toBe(10);
    expect(await ok(["runs", "show", run.id])).toMatch(/MEAN@G/);
    const version = shownRun.latestVersion;
    expect(version).toBeGreaterThan(0);

    // The library.
    const versions = await okJson<{ data: { version: number }[] }>(["library", "versions", "cli"]);
    expect(versions.data.map((v) => v.version)).toContain(version);
    const lib = await okJson<{ items: { id: string }[] }>(["library", "show", "cli", String(version)]);
    expect(lib.items.length).toBeGreaterThan(0);
    const diff = await okJson<{ added: unknown[] }>(["library", "diff", "cli", "0", String(version)]);
    expect(diff.added).toHaveLength(lib.items.length);
    expect(await ok(["library", "diff", "cli", "0", String(version)])).toMatch(/^version 0 → \d+: \d+ added/);

    // Ownership: export, import into another agent (same rendering), the reference format, an edit by hand.
    const exported = join(tmp, "cli-library.json");
    await ok(["library", "export", "cli", String(version), "-o", exported]);
    await ok(["agents", "create", "cli-copy", "--base-url", "sim://local", "--model", "sim-1"]);
    const imported = await okJson<{ version: number; meta: { source: string }; rendered: string; warnings: string[] }>([
      "library",
      "import",
      "cli-copy",
      exported,
      "--reason",
      "copy of cli",
    ]);
    expect(imported).toMatchObject({ version: 1, meta: { source: "imported" }, warnings: [] });
    expect(imported.rendered).toBe(await ok(["library", "show", "cli", String(version), "--rendered"]).then((t) => t.replace(/\n$/, "")));
    const reference = join(tmp, "experiences.json");
    writeFileSync(reference, await ok(["library", "export", "cli", String(version), "--format", "reference"]));
    expect(await ok(["library", "import", "cli-copy", reference, "--reason", "reference format", "--model", "deepseek-chat"])).toMatch(
      /version 2 \(imported, \d+ items\)[\s\S]*warning: version 2 was learned with model 'deepseek-chat'/,
    );
    const firstId = lib.items[0]!.id;
    const edited = await okJson<{ version: number; items: { id: string }[] }>([
      "library",
      "edit",
      "cli-copy",
      "--base",
      "1",
      "--add",
      "Units: an hour is 60 minutes.",
      "--delete",
      firstId,
      "--reason",
      "by hand",
    ]);
    expect(edited.version).toBe(3);
    expect(edited.items.map((i) => i.id)).not.toContain(firstId);
    const dupes = join(tmp, "dupes.json");
    writeFileSync(dupes, '{"0": "one", "0": "two"}');
    const refused = await cli(["library", "import", "cli-copy", dupes, "--reason", "bad"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim()).toMatch(/^error: duplicate id "0".*HTTP 400/);

    // An evaluation right after the run, fanned out to one chunk instance per question: start, watch.
    // wrangler dev used to wedge here (docs/wrangler-dev.md); the watch may recover a stalled
    // evaluation, and the test fails if it ever had to.
    const { id: evId } = await okJson<{ id: string }>([
      "eval",
      "start",
      "--agent",
      "cli",
      "--dataset",
      "small",
      "--versions",
      `${version},none`,
      "-k",
      "1",
    ]);
    const evWatched = await cli(["--json", "eval", "watch", evId, "--recover-after", "30"], {}, 180_000);
    expect(evWatched.code, evWatched.stderr).toBe(0);
    expect(evWatched.stderr).not.toMatch(/no progress for/);
    const figures = JSON.parse(evWatched.stdout) as { status: string; versions: { version: number; meanAtK: number }[] };
    expect(figures.status).toBe("completed");
    expect(figures.versions.map((v) => v.version)).toEqual([version, 0]);
    const late = await cli(["eval", "recover", evId]);
    expect(late.code).not.toBe(0);
    expect(late.stderr).toContain("already completed");

    // Promotion.
    expect(await ok(["promote", "cli", String(version)])).toContain(`serving version ${version}`);
    expect((await okJson<{ activeVersion: number }>(["agents", "show", "cli"])).activeVersion).toBe(version);
    expect((await okJson<{ active: number; data: unknown[] }>(["promote", "cli", "--history"])).data).toHaveLength(1);
    expect(await ok(["library", "show", "cli"])).toMatch(new RegExp(`^version ${version}:`));
  }, 300_000);

  it("sets, shows, ramps and ends a canary, and prints live metrics per version", async () => {
    const { activeVersion: version } = await okJson<{ activeVersion: number }>(["agents", "show", "cli"]);
    await ok(["promote", "cli", "none", "--reason", "canary from no library"]);
    const set = await ok([
      "canary",
      "set",
      "cli",
      String(version),
      "--percent",
      "50",
      "--sticky-by",
      "header:x-user-id",
      "--min-requests",
      "50",
    ]);
    expect(set).toMatch(new RegExp(`canary cny_\\w+ serves v${version} to 50% \\(sticky by header:x-user-id\\) next to none`));
    const again = await cli(["canary", "set", "cli", String(version), "--percent", "10"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/^error: a canary of v\d+ .* is already running.*HTTP 400, canary_running/);
    const bad = await cli(["canary", "set", "cli", String(version), "--percent", "100"]);
    expect(bad.stderr).toMatch(/percent.*less than 100.*HTTP 400/);

    const key = await okJson<{ key: string }>(["keys", "create", "cli", "--name", "canary"]);
    const served = new Map<string, string>();
    for (let u = 0; u < 12; u++) {
      const client = new OpenAI({ baseURL: `${dev.url}/v1`, apiKey: key.key, maxRetries: 0, defaultHeaders: { "x-user-id": `user-${u}` } });
      const { response } = await client.chat.completions
        .create({ model: "sim-1", messages: [{ role: "user", content: simDataset("sim-test")[u]!.question }], seed: u })
        .withResponse();
      served.set(response.headers.get("x-request-id") ?? "", response.headers.get("x-experience-version") ?? "");
    }
    expect(new Set(served.values())).toEqual(new Set(["none", String(version)]));
    for (const requestId of [...served.keys()].slice(0, 6)) {
      const res = await fetch(`${dev.url}/v1/feedback`, {
        method: "POST",
        headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
        body: JSON.stringify({ request_id: requestId, reward: 1 }),
      });
      expect(res.status).toBe(200);
    }
    const shown = await ok(["canary", "show", "cli"]);
    expect(shown).toMatch(new RegExp(`candidate: +v${version} to 50% of the traffic, sticky by header:x-user-id`));
    expect(shown).toMatch(/verdict: wait — collecting feedback/);
    const live = await okJson<{ versions: { label: string; arm: string; overall: { requests: number; feedback: number } }[] }>([
      "canary",
      "live",
      "cli",
    ]);
    expect(live.versions.map((v) => [v.label, v.arm])).toEqual([
      [`v${version}`, "candidate"],
      ["none", "active"],
    ]);
    expect(live.versions.reduce((n, v) => n + v.overall.requests, 0)).toBe(12);
    expect(live.versions.reduce((n, v) => n + v.overall.feedback, 0)).toBe(6);
    expect(await ok(["canary", "live", "cli", "--buckets", "--bucket", "60"])).toMatch(/MEAN REWARD \[95% CI\][\s\S]*per 60 s:/);

    expect(await ok(["canary", "ramp", "cli", "80", "--reason", "looks fine"])).toMatch(/now serves v\d+ to 80% of the traffic/);
    const unchanged = await cli(["canary", "ramp", "cli", "80"]);
    expect(unchanged.code).not.toBe(0);
    expect(unchanged.stderr).toMatch(/already serves 80% .*HTTP 400, percent_unchanged/);
    expect(await ok(["canary", "end", "cli", "--reason", "enough"])).toMatch(/ended; none serves all traffic/);
    expect(await ok(["canary", "show", "cli"])).toMatch(/no canary running[\s\S]*\bended\b.*enough/);
    const history = await okJson<{ data: { decidedBy: string; decision: string }[] }>(["promote", "cli", "--history"]);
    expect(history.data.slice(0, 3).map((p) => `${p.decidedBy}:${p.decision}`)).toEqual([
      "manual:ended",
      "manual:canary_ramped",
      "manual:canary_started",
    ]);
  }, 120_000);
});
