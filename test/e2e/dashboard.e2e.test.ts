/**
 * The dashboard end to end in a real browser (docs/dashboard.md §5): Debian's chromium driven by
 * playwright-core against `wrangler dev`, with an agent trained on the standalone simulated model
 * (recording what reaches it). Signs in, reads the run's learning curve, the group drill-down, the
 * library diff, the evaluation, usage and data sets; promotes a version in the UI and sees
 * /v1/chat/completions serve it; checks that hostile text stays inert, that a cross-site page cannot
 * act with the session, that an expired session returns to sign-in on the same page, and that the
 * console stays clean. Screenshots of every page go to test-results/dashboard/.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import OpenAI from "openai";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomEncryptionKey, startWranglerDev, type WranglerDev } from "../../scripts/lib/wranglerDev";
import { startSimServer, type SimServer } from "../../scripts/simServer";
import { simDataset } from "../../src/sim/dataset";

const ROOT = resolve(import.meta.dirname, "../..");
const SHOTS = join(ROOT, "test-results/dashboard");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ADMIN_TOKEN = "e2e-dashboard-admin-token";
const AGENT = "ui-demo";
/** Text that would run script, load an image or navigate if it were ever parsed as HTML. */
const HOSTILE = `<script>window.__pwned="script"</script><img src=x onerror="window.__pwned='img'"><a href="javascript:window.__pwned='link'">click me</a>`;

let dev: WranglerDev;
let sim: SimServer;
let context: BrowserContext;
let page: Page;
let evil: Server;
let runId = "";
let trained = 0;
let hostileVersion = 0;
let evaluationId = "";
let hostileSample = 0;
const profile = mkdtempSync(join(tmpdir(), "tfgrpo-chromium-"));
const consoleErrors: string[] = [];

type RunView = { id: string; status: string; latestVersion: number; batches: unknown[] };

async function api<T>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
  const send = () =>
    fetch(`${dev.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": contentType },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  // A pooled keep-alive socket may have idled out during a slow `wrangler d1 execute`: a read is retried once.
  const res = await send().catch((error: unknown) => (method === "GET" ? send() : Promise.reject(error)));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function waitFor<T>(path: string, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await api<T>("GET", path);
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${path}: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Opens a dashboard page by its URL and waits for its heading. */
async function open(hash: string, heading: string | RegExp): Promise<void> {
  await page.goto(`${dev.url}/ui/${hash}`);
  await page.getByRole("heading", { level: 1, name: heading }).waitFor({ timeout: 20_000 });
}

// Code run in the page is written as strings: this file is type-checked without the DOM library.

/** How many pixels of a chart's canvas have been drawn on (non-transparent). */
async function drawn(testId: string): Promise<number> {
  await page.getByTestId(testId).waitFor();
  return page.evaluate<number>(`(() => {
    const c = document.querySelector('[data-testid="${testId}"]');
    const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return painted;
  })()`);
}

/** No script, image or javascript: link came out of the API's text, and nothing ran. */
async function expectInert(): Promise<void> {
  const found = await page.evaluate<{ pwned: string | null; elements: number }>(`({
    pwned: window.__pwned ?? null,
    elements: document.querySelectorAll('#app script, #app img, #app a[href^="javascript:"], #app [onerror]').length,
  })`);
  expect(found).toEqual({ pwned: null, elements: 0 });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const built = spawnSync("npx", ["tsx", "scripts/buildUi.ts"], { cwd: ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`building the dashboard failed: ${built.stderr}`);
  if (!existsSync(CHROMIUM))
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);

  sim = await startSimServer();
  dev = await startWranglerDev({ vars: { ADMIN_TOKEN, ENCRYPTION_KEY: randomEncryptionKey() } });
  const agent = await api<{ id: string }>("POST", "/api/agents", {
    name: AGENT,
    upstream: { baseUrl: sim.url, model: "sim-1" },
    systemPrompt: "Solve it; answer in \\boxed{}.",
    verifier: { kind: "math" },
  });
  await api("POST", "/api/datasets?name=ui-train", simDataset("sim-train").slice(0, 12));
  await api("POST", "/api/datasets?name=ui-test", simDataset("sim-test").slice(0, 8));
  await api("POST", "/api/datasets?name=ui-hostile", [{ id: "x1", question: HOSTILE, answer: HOSTILE, note: HOSTILE }]);

  const run = await api<{ id: string }>("POST", "/api/runs", {
    agent: AGENT,
    dataset: "ui-train",
    epochs: 1,
    groupSize: 3,
    batchSize: 6,
    seed: 7,
  });
  runId = run.id;
  const done = await waitFor<RunView>(`/api/runs/${runId}`, (r) => r.status !== "queued" && r.status !== "running", 240_000);
  expect(done.status).toBe("completed");
  trained = done.latestVersion;
  expect(trained).toBeGreaterThan(0);

  const evaluation = await api<{ id: string }>("POST", "/api/evaluations", {
    agent: AGENT,
    dataset: "ui-test",
    versions: [trained, "none"],
    k: 2,
    seed: 3,
  });
  evaluationId = evaluation.id;

  // No endpoint writes library items or rollouts by hand: hostile data at rest is written to D1
  // directly, as a hostile upstream model or a hostile experience writer would leave it.
  const groups = await api<{ data: { sampleIdx: number; status: string }[] }>("GET", `/api/runs/${runId}/groups?epoch=1`);
  hostileSample = (groups.data.find((g) => g.status === "kept") ?? groups.data[0])?.sampleIdx ?? 0;
  hostileVersion = trained + 1;
  const provenance = JSON.stringify([{ runId: null, epoch: null, batch: null, op: "ADD" }]);
  dev.d1Execute(
    [
      `UPDATE rollouts SET response = ${sqlText(`Let me think. ${HOSTILE}`)}, critique = ${sqlText(HOSTILE)} WHERE run_id = ${sqlText(runId)} AND epoch = 1 AND sample_idx = ${hostileSample} AND rollout_idx = 0`,
      `INSERT INTO library_versions (agent_id, version, parent_version, origin_key, item_count, note) SELECT agent_id, ${hostileVersion}, version, 'e2e/hostile', item_count + 1, ${sqlText(HOSTILE)} FROM library_versions WHERE agent_id = ${sqlText(agent.id)} AND version = ${trained}`,
      `INSERT INTO library_items (agent_id, version, position, item_id, name, text, provenance) SELECT agent_id, ${hostileVersion}, position, item_id, name, text, provenance FROM library_items WHERE agent_id = ${sqlText(agent.id)} AND version = ${trained}`,
      `INSERT INTO library_items (agent_id, version, position, item_id, name, text, provenance) VALUES (${sqlText(agent.id)}, ${hostileVersion}, 999, 'E999', ${sqlText(`Evil ${HOSTILE}`)}, ${sqlText(HOSTILE)}, ${sqlText(provenance)})`,
    ].join("; "),
  );
  await waitFor<{ status: string }>(`/api/evaluations/${evaluationId}`, (e) => e.status !== "queued" && e.status !== "running", 180_000);

  // A page on another origin of the same host (same site, so a SameSite=Strict cookie still goes
  // along) that tries to promote "none" with the victim's session: a form post and a fetch.
  evil = createServer((_req, res) => {
    res.setHeader("content-type", "text/html");
    res.end(`<!doctype html><form id="f" method="post" action="${dev.url}/api/agents/${AGENT}/promote" enctype="text/plain"><input name='{"version":0,"x":"' value='"}'></form>
<script>
fetch("${dev.url}/api/agents/${AGENT}/promote", { method: "POST", credentials: "include", headers: { "content-type": "application/json", "x-tfgrpo-csrf": "1" }, body: '{"version":0}' })
  .then((r) => { document.title = "fetch " + r.status; }, () => { document.title = "fetch blocked"; })
  .finally(() => document.getElementById("f").submit());
</script>`);
  });
  await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));

  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
}, 600_000);

afterAll(async () => {
  await context?.close();
  await new Promise((r) => (evil ? evil.close(r) : r(null)));
  await dev?.stop();
  await sim?.close();
  rmSync(profile, { recursive: true, force: true });
});

describe("the dashboard in chromium", () => {
  it("serves the page with a strict Content-Security-Policy", async () => {
    const res = await fetch(`${dev.url}/ui/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    // A preflight (what a cross-site fetch with the CSRF header needs first) is never granted.
    const preflight = await fetch(`${dev.url}/api/agents/${AGENT}/promote`, {
      method: "OPTIONS",
      headers: {
        origin: "http://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-tfgrpo-csrf",
      },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses a wrong token without a cookie, then signs in with the right one; the token is kept nowhere", async () => {
    await page.goto(`${dev.url}/ui`);
    expect(new URL(page.url()).pathname).toBe("/ui/");
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("sign-in-error").filter({ hasText: "Wrong admin token." }).waitFor();
    expect(await context.cookies()).toEqual([]);
    // The wrong token's 401 is the only console error so far (Chromium logs every failed request).
    expect(consoleErrors.length).toBe(1);
    expect(consoleErrors[0]).toContain("401");
    consoleErrors.length = 0;
    await shot("01-sign-in-wrong-token");

    const logged = dev.output().length;
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Agents" }).waitFor();
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: "tfgrpo_session", httpOnly: true, sameSite: "Strict", secure: false, path: "/" });
    expect(cookies[0]?.expires).toBeGreaterThan(Date.now() / 1000 + 3600);
    expect(cookies[0]?.value).not.toContain(ADMIN_TOKEN);
    const stored = await page.evaluate<string>(
      "JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, url: location.href, cookie: document.cookie })",
    );
    expect(stored).not.toContain(ADMIN_TOKEN);
    expect(JSON.parse(stored).cookie).toBe("");
    expect(dev.output().slice(logged)).not.toContain(ADMIN_TOKEN);
  });

  it("lists the agent with its active version, item count, last run and traffic", async () => {
    const row = page.getByTestId("agents-table").getByRole("row", { name: new RegExp(AGENT) });
    await expect(row.textContent()).resolves.toContain(runId);
    await expect(row.textContent()).resolves.toContain("completed");
    await shot("02-agents");
  });

  it("shows the run with its learning curve drawn, its batches and the group drill-down", async () => {
    await open(`#/runs/${runId}`, new RegExp(runId));
    expect(await drawn("curve-reward")).toBeGreaterThan(500);
    expect(await drawn("curve-groups")).toBeGreaterThan(500);
    expect(await drawn("curve-tokens")).toBeGreaterThan(500);
    await expect(page.getByTestId("batches-table").locator("tbody tr").count()).resolves.toBe(2);
    await expect(page.getByTestId("run-progress").textContent()).resolves.toMatch(/12 of 12/);
    await shot("03-run");

    await page.getByTestId("batches-table").getByRole("link", { name: "groups" }).first().click();
    await page.getByRole("heading", { level: 1, name: /Epoch 1, batch 0: groups/ }).waitFor();
    await expect(page.getByTestId("groups-table").locator("tbody tr").count()).resolves.toBe(6);
    await shot("04-batch-groups");

    await open(`#/runs/${runId}/groups/1/${hostileSample}`, new RegExp(`sample ${hostileSample}`));
    const rollouts = page.getByTestId("rollout");
    await expect(rollouts.count()).resolves.toBe(3);
    await expect(rollouts.first().textContent()).resolves.toContain(HOSTILE);
    await expectInert();
    await shot("05-group-hostile-rollout");
  });

  it("shows the library with provenance, renders a hostile item as text, and diffs two versions side by side", async () => {
    await open(`#/agents/${AGENT}/library?v=${hostileVersion}`, new RegExp(`Library of ${AGENT}`));
    const items = page.getByTestId("items-table");
    await expect(items.textContent()).resolves.toContain(`Evil ${HOSTILE}`);
    await expect(page.getByTestId("versions-table").textContent()).resolves.toContain(HOSTILE);
    await expectInert();
    await shot("06-library-hostile-item");

    const diff = await api<{ added: { id: string; text: string }[] }>("GET", `/api/agents/${AGENT}/library/diff?from=0&to=${trained}`);
    expect(diff.added.length).toBeGreaterThan(0);
    await page.getByLabel("From", { exact: true }).selectOption("0");
    await page.getByLabel("To", { exact: true }).selectOption(String(trained));
    await page.getByRole("button", { name: "Compare" }).click();
    await page.getByTestId("diff-table").waitFor();
    const added = page.locator('[data-change="added"]');
    await expect(added.count()).resolves.toBe(diff.added.length);
    for (const item of diff.added) await expect(page.getByTestId("diff-table").textContent()).resolves.toContain(item.text);
    await shot("07-library-diff");
  });

  it("promotes a version after a confirmation, and /v1/chat/completions serves it", async () => {
    await open(`#/agents/${AGENT}/library?v=${trained}`, new RegExp(`Library of ${AGENT}`));
    await page.getByTestId(`promote-${trained}`).click();
    const dialog = page.getByTestId("confirm");
    await dialog.waitFor();
    await shot("08-promote-confirmation");
    // Cancelling changes nothing, by the button or by Escape (focus starts on Cancel).
    await expect(page.evaluate<string>("document.activeElement.textContent")).resolves.toBe("Cancel");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await page.getByTestId(`promote-${trained}`).click();
    await page.getByTestId("confirm").waitFor();
    await page.keyboard.press("Escape");
    await page.getByTestId("confirm").waitFor({ state: "detached" });
    expect((await api<{ activeVersion: number | null }>("GET", `/api/agents/${AGENT}`)).activeVersion).toBeNull();
    await page.getByTestId(`promote-${trained}`).click();
    await page.getByTestId("confirm").getByRole("button", { name: "Promote" }).click();
    await page
      .getByTestId("active-version")
      .filter({ hasText: `v${trained}` })
      .waitFor();
    expect((await api<{ activeVersion: number | null }>("GET", `/api/agents/${AGENT}`)).activeVersion).toBe(trained);

    const library = await api<{ items: { text: string }[] }>("GET", `/api/agents/${AGENT}/library/versions/${trained}`);
    const key = await api<{ key: string }>("POST", `/api/agents/${AGENT}/keys`, { name: "dashboard-e2e" });
    const client = new OpenAI({ baseURL: `${dev.url}/v1`, apiKey: key.key, maxRetries: 0 });
    const question = simDataset("sim-test")[0]?.question ?? "";
    const { data: reply, response } = await client.chat.completions
      .create({ model: "sim-1", messages: [{ role: "user", content: question }] })
      .withResponse();
    expect(reply.choices[0]?.message.content).toBeTruthy();
    expect(response.headers.get("x-experience-version")).toBe(String(trained));
    const sent = sim.requests.filter((r) => r.path.endsWith("/chat/completions")).at(-1)?.body as {
      messages: { role: string; content: string }[];
    };
    const system = sent.messages.find((m) => m.role === "system")?.content ?? "";
    for (const item of library.items) expect(system).toContain(item.text);
    for (let i = 0; i < 2; i++)
      await client.chat.completions.create({ model: "sim-1", messages: [{ role: "user", content: `${question} (${i})` }] });
  });

  it("keeps a cross-site page from acting with the session", async () => {
    const port = (evil.address() as AddressInfo).port;
    const attacker = await context.newPage();
    await attacker.goto(`http://127.0.0.1:${port}/`);
    await attacker.waitForURL(/\/api\/agents\/.*\/promote/, { timeout: 10_000 });
    await expect(attacker.textContent("body")).resolves.toContain("csrf_rejected");
    await attacker.close();
    expect((await api<{ activeVersion: number | null }>("GET", `/api/agents/${AGENT}`)).activeVersion).toBe(trained);
  });

  it("shows the evaluation with whiskers, the paired difference and per-question results", async () => {
    await open(`#/evaluations/${evaluationId}`, new RegExp(evaluationId));
    expect(await drawn("eval-whiskers")).toBeGreaterThan(500);
    expect(await drawn("eval-diff")).toBeGreaterThan(500);
    await expect(page.getByTestId("eval-paired").locator("tbody tr").count()).resolves.toBe(1);
    await expect(page.getByTestId("eval-questions").locator("tbody tr").count()).resolves.toBe(8);
    await shot("09-evaluation");
  });

  it("shows the promotion decisions and the usage by key", async () => {
    await open(`#/agents/${AGENT}/promotions`, new RegExp(`Promotions of ${AGENT}`));
    await expect(page.getByTestId("promotions-table").textContent()).resolves.toMatch(/manual.*promoted.*none → v\d/);
    await shot("10-promotions");

    await open(`#/agents/${AGENT}/usage`, new RegExp(`Usage of ${AGENT}`));
    expect(await drawn("usage-requests")).toBeGreaterThan(100);
    await expect(page.getByTestId("usage-by-key").textContent()).resolves.toContain("dashboard-e2e");
    await shot("11-usage");
  });

  it("shows a canary with its arms and the live metrics per version on the agent's page, ramps it and ends it after a confirmation", async () => {
    await api("PUT", `/api/agents/${AGENT}/canary`, { version: hostileVersion, percent: 50, stickyBy: "header:x-user-id" });
    const key = await api<{ key: string }>("POST", `/api/agents/${AGENT}/keys`, { name: "canary-e2e" });
    // Users until both arms have served (the canary's id, random, decides which users land where).
    const served = new Set<string | null>();
    for (let u = 0; u < 6 || (served.size < 2 && u < 60); u++) {
      const client = new OpenAI({ baseURL: `${dev.url}/v1`, apiKey: key.key, maxRetries: 0, defaultHeaders: { "x-user-id": `user-${u}` } });
      const { response } = await client.chat.completions
        .create({
          model: "sim-1",
          messages: [{ role: "user", content: simDataset("sim-test")[u % 50]?.question ?? "" }],
        })
        .withResponse();
      served.add(response.headers.get("x-experience-version"));
    }
    expect([...served].sort()).toEqual([String(hostileVersion), String(trained)].sort());
    await open(`#/agents/${AGENT}`, new RegExp(`Agent ${AGENT}`));
    await expect(page.getByTestId("canary").textContent()).resolves.toContain(
      `v${hostileVersion} to 50% of the traffic, sticky by header:x-user-id`,
    );
    await expect(page.getByTestId("canary-arms").locator("tbody tr").count()).resolves.toBe(2);
    await expect(page.getByTestId("live-metrics").textContent()).resolves.toMatch(
      new RegExp(`v${hostileVersion} \\(candidate\\)[\\s\\S]*v${trained} \\(active\\)`),
    );
    expect(await drawn("live-requests")).toBeGreaterThan(100);
    await shot("12-canary");
    await page.getByTestId("ramp-percent").fill("70");
    await page.getByTestId("ramp-canary").click();
    await page.getByTestId("confirm").getByRole("button", { name: "Ramp" }).click();
    await page
      .getByTestId("canary")
      .filter({ hasText: `v${hostileVersion} to 70% of the traffic` })
      .waitFor();
    expect((await api<{ canary: { percent: number } }>("GET", `/api/agents/${AGENT}/canary`)).canary.percent).toBe(70);
    await page.getByTestId("end-canary").click();
    await page.getByTestId("confirm").getByRole("button", { name: "End canary" }).click();
    await page.getByTestId("canary").filter({ hasText: "No canary running" }).waitFor();
    expect((await api<{ canary: unknown }>("GET", `/api/agents/${AGENT}/canary`)).canary).toBeNull();
  });

  it("uploads a data set with progress and previews hostile rows as text", async () => {
    await open("#/datasets", "Data sets");
    const file = join(profile, "upload.jsonl");
    writeFileSync(
      file,
      simDataset("sim-test")
        .slice(20, 25)
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    await page.getByLabel("Name", { exact: true }).fill("ui-upload");
    await page.getByLabel("File", { exact: true }).setInputFiles(file);
    await page.getByRole("button", { name: "Upload" }).click();
    await page.getByTestId("upload-status").getByText("5 samples").waitFor();
    await page.getByTestId("datasets-table").getByRole("link", { name: "ui-upload" }).waitFor();
    await shot("12-datasets");

    await open("#/datasets/ui-hostile", /ui-hostile/);
    await expect(page.getByTestId("samples-table").textContent()).resolves.toContain(HOSTILE);
    await expectInert();
    await shot("13-dataset-hostile-rows");
  });

  it("is usable at 375 px and from the keyboard, with every control named", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    const pages: [string, RegExp][] = [
      ["#/agents", /Agents/],
      [`#/agents/${AGENT}`, new RegExp(`Agent ${AGENT}`)],
      [`#/agents/${AGENT}/library?v=${trained}`, /Library of/],
      [`#/agents/${AGENT}/library/diff/0/${trained}`, /none → v/],
      [`#/evaluations/${evaluationId}`, new RegExp(evaluationId)],
      [`#/agents/${AGENT}/promotions`, /Promotions of/],
      [`#/agents/${AGENT}/usage`, /Usage of/],
      ["#/datasets", /Data sets/],
      [`#/runs/${runId}/groups/1/${hostileSample}`, /Group: epoch 1/],
    ];
    for (const [hash, heading] of pages) {
      await open(hash, heading);
      // The page itself never scrolls sideways (wide tables scroll inside their own frame).
      const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
      expect(overflow, hash).toBeLessThanOrEqual(0);
      const unnamed = await page.evaluate<
        string[]
      >(`[...document.querySelectorAll("#app a, #app button, #app input, #app select, #app canvas")]
        .filter((el) => !((el.getAttribute("aria-label") || "").trim() || (el.labels && el.labels.length > 0) || (el.textContent || "").trim()))
        .map((el) => el.outerHTML.slice(0, 80))`);
      expect(unnamed, hash).toEqual([]);
    }
    await open(`#/runs/${runId}`, new RegExp(runId));
    expect(await drawn("curve-reward")).toBeGreaterThan(300);
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await page.keyboard.press("Tab");
    await expect(page.evaluate<string>("document.activeElement.textContent")).resolves.toBe("Skip to content");
    await shot("14-run-375px");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("edits a version by hand, downloads it as a file and imports one, on the library page", async () => {
    await open(`#/agents/${AGENT}/library?v=${trained}`, new RegExp(`Library of ${AGENT}`));
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-native").click()]);
    const downloaded = await download.path();
    const file = JSON.parse(readFileSync(downloaded, "utf8")) as { format: string; version: number; items: { id: string }[] };
    expect(file).toMatchObject({ format: "tfgrpo-library", version: trained });

    // Edit by hand: drop the first item's line, add one without an id.
    await page.getByTestId("edit-form").locator("summary").click();
    const lines = (await page.locator("#edit-lines").inputValue()).split("\n");
    await page.locator("#edit-lines").fill([...lines.slice(1), "Units: an hour is 60 minutes, not 100."].join("\n"));
    await page.getByLabel("Your name").first().fill("e2e");
    await page.getByLabel("Why").first().fill("dashboard edit");
    await page.getByRole("button", { name: "Make the new version" }).click();
    await page.getByTestId("made-notice").filter({ hasText: "manual" }).waitFor();
    const versions = await api<{ data: { version: number; source: string; author: string | null }[] }>(
      "GET",
      `/api/agents/${AGENT}/library/versions`,
    );
    const edited = versions.data[0]!;
    expect(edited).toMatchObject({ source: "manual", author: "e2e" });
    const editedItems = await api<{ items: { id: string; text: string }[] }>(
      "GET",
      `/api/agents/${AGENT}/library/versions/${edited.version}`,
    );
    expect(editedItems.items.map((i) => i.id)).not.toContain(file.items[0]!.id);
    expect(editedItems.items.at(-1)?.text).toBe("an hour is 60 minutes, not 100.");

    // Import the downloaded file through the form.
    await page.locator("#import-file").setInputFiles(downloaded);
    await page.locator("#import-author").fill("e2e");
    await page.locator("#import-reason").fill("dashboard import");
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await page.getByTestId("made-notice").filter({ hasText: "imported" }).waitFor();
    const imported = (await api<{ data: { version: number; source: string }[] }>("GET", `/api/agents/${AGENT}/library/versions`)).data[0]!;
    expect(imported).toMatchObject({ version: edited.version + 1, source: "imported" });
    await shot("16-library-ownership");
  });

  it("follows a running run live, recovers it and cancels it after a confirmation", async () => {
    const { id } = await api<{ id: string }>("POST", "/api/runs", {
      agent: AGENT,
      dataset: "ui-train",
      // Long enough (20 epochs of 6 one-group-at-a-time batches) that it is still running when cancelled.
      epochs: 20,
      groupSize: 3,
      batchSize: 2,
      maxGroupsInFlight: 1,
      seed: 11,
    });
    await open(`#/runs/${id}`, new RegExp(id));
    const progress = page.getByTestId("run-progress");
    await progress.getByText("running").waitFor({ timeout: 30_000 });
    const before = await progress.textContent();
    // The page polls: the progress moves without a reload.
    // (Polled from here: waitForFunction evaluates its string with eval, which the page's CSP forbids.)
    const deadline = Date.now() + 30_000;
    while ((await progress.textContent()) === before) {
      if (Date.now() > deadline) throw new Error("the run's progress did not change on the page within 30 s");
      await new Promise((r) => setTimeout(r, 250));
    }
    await page.getByTestId("recover-run").click();
    await page
      .getByTestId("run-notice")
      .filter({ hasText: /^Recovery: / })
      .waitFor();
    await shot("15-run-live");
    await page.getByTestId("cancel-run").click();
    await page.getByTestId("confirm").getByRole("button", { name: "Cancel run" }).click();
    await progress.getByText("cancelled").waitFor({ timeout: 30_000 });
    expect((await api<{ status: string }>("GET", `/api/runs/${id}`)).status).toBe("cancelled");
    await expect(page.getByTestId("cancel-run").count()).resolves.toBe(0);
  });

  it("sends an expired session back to sign-in and returns to the same page", async () => {
    await open(`#/agents/${AGENT}/promotions`, new RegExp(`Promotions of ${AGENT}`));
    await context.clearCookies();
    await page.getByRole("link", { name: "Usage" }).click();
    await page.getByRole("status").filter({ hasText: "Your session has ended" }).waitFor();
    expect(page.url()).toContain(`#/agents/${AGENT}/usage`);
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: new RegExp(`Usage of ${AGENT}`) }).waitFor();
    // The 401 that ended the session is the only console error of this step.
    expect(consoleErrors.filter((e) => !e.includes("401"))).toEqual([]);
    consoleErrors.length = 0;

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin token").waitFor();
    expect(await context.cookies()).toEqual([]);
  });

  it("logged no console error on any page", () => {
    expect(consoleErrors).toEqual([]);
  });
});
