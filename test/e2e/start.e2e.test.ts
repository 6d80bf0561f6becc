/**
 * `npm start` end to end: runs scripts/start.ts on a free port with throwaway state and secrets, waits
 * for the "serving" line, then calls the chat endpoint exactly as the printed snippet does (official
 * `openai` client) and checks that the promoted library version is the one served.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import OpenAI from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/wranglerDev";

const ROOT = resolve(import.meta.dirname, "../..");
/** The test's waits at their longest (the snippet's client: 3 tries of 30 s and backoff), which its timeout covers. */
const WAIT = { serving: 240_000, snippet: 3 * 30_000 + 10_000, stop: 30_000, healthz: 2_000 };
const TIMEOUT = Object.values(WAIT).reduce((a, b) => a + b, 0) + 30_000;
const tmp = mkdtempSync(join(tmpdir(), "tfgrpo-start-e2e-"));
let child: ChildProcess | undefined;
let closed = false;
/** Resolves when every process holding the output pipes has exited. */
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

const signalGroup = (signal: NodeJS.Signals) => {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
};

afterAll(async () => {
  if (child && !closed) {
    // SIGTERM lets start.ts stop its wrangler dev (its own process group) cleanly.
    signalGroup("SIGTERM");
    const timer = setTimeout(() => signalGroup("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe("npm start", () => {
  it(
    "trains, promotes and serves the demo agent; the printed snippet works; Ctrl-C stops it",
    async () => {
      const port = await freePort();
      const devVars = join(tmp, "dev.vars");
      // As `npm start` runs it: node itself with tsx's loader. (tsx's own CLI wraps the script in a second
      // process that SIGKILLs it when it does not confirm a signal within 30 ms, as happened under load,
      // and start.ts then died without stopping its wrangler dev.)
      child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), TFGRPO_STATE_DIR: join(tmp, "state"), TFGRPO_DEV_VARS: devVars, TFGRPO_NO_DEMO: "" },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const proc = child;
      exited = new Promise((r) =>
        proc.once("close", (code, signal) => {
          closed = true;
          r({ code, signal });
        }),
      );
      let stdout = "";
      let stderr = "";
      proc.stdout?.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
      proc.stderr?.on("data", (b: Buffer) => (stderr += b.toString("utf8")));

      const serving = await new Promise<string>((resolveLine, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "serving" line after 4 minutes:\n${stdout}\n${stderr}`)), WAIT.serving);
        const check = () => {
          const m = /serving on (\S+) — Ctrl-C to stop/.exec(stdout);
          if (m?.[1]) {
            clearTimeout(timer);
            resolveLine(m[1]);
          }
        };
        proc.stdout?.on("data", check);
        void exited?.then(({ code }) => {
          clearTimeout(timer);
          reject(new Error(`npm start exited (${code}) before serving:\n${stdout}\n${stderr}`));
        });
      });
      expect(serving).toBe(`http://127.0.0.1:${port}`);

      // The secrets file was created with the printed token.
      const token = /Admin token: (\S+)/.exec(stdout)?.[1];
      expect(token).toBeTruthy();
      expect(readFileSync(devVars, "utf8")).toContain(`ADMIN_TOKEN=${token}`);

      // Before/after accuracy, after > before, and the promoted version.
      const before = Number(/before: (\d\.\d+)/.exec(stdout)?.[1]);
      const afterMatch = /after: +(\d\.\d+).*\(library version (\d+)\)/.exec(stdout);
      const after = Number(afterMatch?.[1]);
      const version = afterMatch?.[2];
      expect(before).toBeGreaterThanOrEqual(0);
      expect(after).toBeGreaterThan(before);
      expect(version).toMatch(/^\d+$/);
      expect(stdout).toMatch(/Learned experiences \(version \d+, \d+ items\)/);
      expect(stdout).toMatch(/Timings: stack [\d.]+ s .* total [\d.]+ s/);

      // The dashboard's address, as printed, serves its page.
      expect(stdout).toContain(`Dashboard:   ${serving}/ui/`);
      const dashboard = await fetch(`${serving}/ui/`);
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain('<script type="module" src="app.js">');

      // The snippet, as printed.
      const key = /Proxy key for agent 'demo' \(shown once\): (\S+)/.exec(stdout)?.[1];
      expect(key).toBeTruthy();
      const baseURL = /baseURL: "([^"]+)"/.exec(stdout)?.[1];
      expect(baseURL).toBe(`${serving}/v1`);
      expect(stdout).toContain(`curl ${serving}/v1/chat/completions`);
      const client = new OpenAI({ baseURL: `${serving}/v1`, apiKey: key, maxRetries: 2, timeout: 30_000 });
      const { data, response } = await client.chat.completions
        .create({ model: "sim-1", messages: [{ role: "user", content: "How many integers are there from 14 to 53, inclusive?" }] })
        .withResponse();
      expect(response.status).toBe(200);
      expect(response.headers.get("x-experience-version")).toBe(version);
      expect(data.choices[0]?.message.content).toMatch(/\\boxed\{/);

      // Ctrl-C (SIGINT to the whole foreground group, as a terminal sends it) stops it and its wrangler dev.
      signalGroup("SIGINT");
      const end = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), WAIT.stop))]);
      expect(end).not.toBe("timeout");
      expect(stdout).toContain("SIGINT: stopping wrangler dev");
      expect(stdout).toContain("stopped");
      const res = await fetch(`${serving}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch((e: unknown) => e);
      expect(res).toBeInstanceOf(Error);
    },
    TIMEOUT,
  );
});
