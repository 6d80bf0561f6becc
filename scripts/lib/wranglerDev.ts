/**
 * Starts wrangler's dev server on a free loopback port with its own throwaway local state, for
 * end-to-end tests, benchmarks and `npm start`. Migrations are applied first; the process runs in its
 * own process group so that `stop()` takes down wrangler and the workerd it spawned together.
 *
 * By default the server runs without an inspector (scripts/lib/devServer.ts), because `wrangler dev`
 * wedges under load with one attached (docs/wrangler-dev.md); `inspector: true` runs `wrangler dev`
 * itself, for tools that need the inspector (CPU profiles).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { encryptionKeyProblem } from "../../src/auth/crypto";

/** A fresh ENCRYPTION_KEY (32 random bytes, base64) for a throwaway local stack. */
export function randomEncryptionKey(): string {
  return randomBytes(32).toString("base64");
}

export type WranglerDevOptions = {
  /** Project directory holding the wrangler config (default: the repository root). */
  cwd?: string;
  /** Config file relative to cwd (default wrangler.toml). */
  config?: string;
  /** Vars and secrets for the Worker (passed as `--var NAME:value`); LOCAL_DEVELOPMENT=1 is added unless given. */
  vars?: Record<string, string>;
  /** Apply D1 migrations for this binding before starting (default "DB"; null to skip). */
  migrateBinding?: string | null;
  /** Path polled until it answers 2xx (default /healthz). */
  readyPath?: string;
  readyTimeoutMs?: number;
  /** Reuse this state directory (e.g. to restart after `kill()`); it is then kept on stop. */
  persistDir?: string;
  /** Extra `wrangler dev` arguments, e.g. `--test-scheduled`. */
  args?: string[];
  /** Listen on this port instead of a free one. */
  port?: number;
  /** Print wrangler's output (default: only when it fails to start). */
  verbose?: boolean;
  /** Run `wrangler dev` with its inspector (default false: scripts/lib/devServer.ts, none). */
  inspector?: boolean;
};

export type WranglerDev = {
  url: string;
  port: number;
  /** The Chrome DevTools inspector of the Worker (CPU profiles: scripts/profile-proxy.ts); null without one. */
  inspectorPort: number | null;
  /** Process group of wrangler and its workerd processes (CPU accounting: scripts/lib/processCpu.ts). */
  pgid: number;
  persistDir: string;
  /** Runs SQL against the dev server's local D1 (same persisted state). */
  d1Execute(sql: string, binding?: string): void;
  /** Output captured so far (for diagnostics). */
  output(): string;
  /** Whether the dev server's own process is still running (its workerd processes may have died). */
  alive(): boolean;
  /** SIGKILL, as a crash would: the state directory stays for a restart. */
  kill(): Promise<void>;
  stop(): Promise<void>;
};

const ROOT = resolve(import.meta.dirname, "../..");
const DEV_SERVER = resolve(import.meta.dirname, "devServer.ts");

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const childEnv = () => ({ ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" });

function runWrangler(cwd: string, args: string[]): string {
  const result = spawnSync("npx", ["wrangler", ...args], { cwd, env: childEnv(), encoding: "utf8", timeout: 120_000 });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export async function startWranglerDev(options: WranglerDevOptions = {}): Promise<WranglerDev> {
  // The Worker would answer every request with a 500 saying this; say it before waiting for it.
  const key = options.vars?.ENCRYPTION_KEY;
  const keyProblem = key === undefined ? null : encryptionKeyProblem(key);
  if (keyProblem)
    throw new Error(`ENCRYPTION_KEY is not usable: ${keyProblem} (use randomEncryptionKey() from scripts/lib/wranglerDev.ts)`);
  const cwd = options.cwd ?? ROOT;
  const configArgs = options.config ? ["--config", options.config] : [];
  const ownState = options.persistDir === undefined;
  const persistDir = options.persistDir ?? mkdtempSync(join(tmpdir(), "tfgrpo-dev-"));
  const binding = options.migrateBinding === undefined ? "DB" : options.migrateBinding;
  if (binding) runWrangler(cwd, ["d1", "migrations", "apply", binding, "--local", "--persist-to", persistDir, ...configArgs]);

  const port = options.port ?? (await freePort());
  const level = options.verbose ? "log" : "warn";
  // A local stack talks to loopback upstreams (the simulated model's server) over plain http.
  const varArgs = Object.entries({ LOCAL_DEVELOPMENT: "1", ...options.vars }).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const inspectorPort = options.inspector ? await freePort() : null;
  const [command, commandArgs] =
    inspectorPort === null
      ? [
          process.execPath,
          [
            "--import",
            "tsx",
            DEV_SERVER,
            "--config",
            resolve(cwd, options.config ?? "wrangler.toml"),
            "--port",
            String(port),
            "--ip",
            "127.0.0.1",
            "--persist-to",
            persistDir,
            "--log-level",
            level,
            ...varArgs,
            ...(options.args ?? []),
          ],
        ]
      : [
          "npx",
          [
            "wrangler",
            "dev",
            ...configArgs,
            "--port",
            String(port),
            "--ip",
            "127.0.0.1",
            "--inspector-port",
            String(inspectorPort),
            "--persist-to",
            persistDir,
            "--show-interactive-dev-session=false",
            "--log-level",
            level,
            ...varArgs,
            ...(options.args ?? []),
          ],
        ];
  // The dev server resolves tsx from the repository, whatever project it serves.
  const child = spawn(command, commandArgs, {
    cwd: inspectorPort === null ? ROOT : cwd,
    env: childEnv(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const capture = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-200_000);
    if (options.verbose) process.stderr.write(text);
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  let alive = true;
  void exited.then(() => (alive = false));

  const stop = async () => {
    if (alive) {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (ownState) rmSync(persistDir, { recursive: true, force: true });
  };
  const kill = async () => {
    if (!alive) return;
    killGroup(child, "SIGKILL");
    await exited;
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (!alive) {
      await stop();
      throw new Error(`wrangler dev exited before it was ready:\n${output}`);
    }
    try {
      const res = await fetch(`${url}${options.readyPath ?? "/healthz"}`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev not ready after ${options.readyTimeoutMs ?? 90_000} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    url,
    port,
    inspectorPort,
    pgid: child.pid ?? -1,
    persistDir,
    d1Execute: (sql, b = "DB") =>
      void runWrangler(cwd, ["d1", "execute", b, "--local", "--persist-to", persistDir, ...configArgs, "--command", sql]),
    output: () => output,
    alive: () => alive,
    kill,
    stop,
  };
}
