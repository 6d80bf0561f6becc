/** Agents: each with its active version, item count, last run and the last 24 hours of traffic. */
import { api, type Agent, type Run } from "../api";
import { append, badge, facts, h, later, link, table } from "../dom";
import { num, versionLabel, when } from "../format";
import { datasetName } from "../names";
import type { Params } from "../router";
import { lastDay } from "../usageStats";
import { agentNav, statusBadgeKind } from "./common";
import { canarySections } from "./canary";

/** Rows read to count the last 24 hours; beyond it the count is shown as a lower bound. */
const USAGE_ROWS = 1000;

async function summary(agent: Agent, signal: AbortSignal) {
  const [versions, runs, usage] = await Promise.all([
    api.versions(agent.name, signal),
    api.runs(agent.name, 1, signal),
    api.usage(agent.name, USAGE_ROWS, signal),
  ]);
  const active = versions.data.find((v) => v.version === agent.activeVersion);
  return { active, lastRun: runs.data[0] ?? null, day: lastDay(usage.data, Date.now(), USAGE_ROWS) };
}

const runCell = (run: Run | null) => (run ? [link(["runs", run.id], run.id), " ", badge(run.status, statusBadgeKind(run.status)), h("br"), h("small", {}, when(run.createdAt))] : "never");

export async function agentsPage(_params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  document.title = "Agents · tfgrpo";
  append(main, h("h1", {}, "Agents"));
  const { data: agents } = await api.agents(signal);
  if (agents.length === 0) {
    append(main, h("p", {}, "No agent yet. Create one with ", h("code", {}, "npx tfgrpo agents create"), " or POST /api/agents."));
    return;
  }
  const rows = await Promise.all(agents.map(async (a) => ({ a, s: await summary(a, signal) })));
  append(
    main,
    table(
      ["Agent", "Model", "Active version", "Items", "Last run", "Requests (24 h)", "Tokens (24 h)"],
      rows.map(({ a, s }) => [
        link(["agents", a.name], a.name),
        a.upstream.model,
        versionLabel(a.activeVersion),
        s.active ? num(s.active.itemCount) : a.activeVersion ? "—" : "0",
        runCell(s.lastRun),
        `${num(s.day.requests)}${s.day.truncated ? "+" : ""}`,
        `${num(s.day.tokens)}${s.day.truncated ? "+" : ""}`,
      ]),
      "Agents",
      "agents-table",
    ),
  );
}

export async function agentPage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const name = params.agent ?? "";
  document.title = `${name} · tfgrpo`;
  const [agent, runs, evaluations, canary] = await Promise.all([
    api.agent(name, signal),
    api.runs(name, 20, signal),
    api.evaluations(name, 20, signal),
    canarySections(name, signal),
  ]);
  const s = await summary(agent, signal);
  append(
    main,
    h("h1", {}, "Agent ", h("span", { class: "name" }, agent.name)),
    agentNav(agent.name, "Overview"),
    facts([
      ["Upstream", `${agent.upstream.model} at ${agent.upstream.baseUrl}`],
      ["Active version", versionLabel(agent.activeVersion)],
      ["Items in it", s.active ? num(s.active.itemCount) : "0"],
      ["Requests, last 24 h", `${num(s.day.requests)}${s.day.truncated ? "+" : ""} (${num(s.day.errors)} errors)`],
      ["Tokens, last 24 h", `${num(s.day.tokens)}${s.day.truncated ? "+" : ""}`],
      ["Verifier", agent.verifier.kind],
      ["Gate", gateText(agent.gate)],
      ["Updated", when(agent.updatedAt)],
    ]),
    canary,
    h("h2", {}, "System prompt"),
    h("pre", { class: "text" }, agent.systemPrompt || "—"),
    h("h2", {}, "Runs"),
    runs.data.length === 0
      ? h("p", {}, "No run yet.")
      : table(
          ["Run", "Status", "Data set", "Progress", "Latest version", "Started"],
          runs.data.map((r) => [
            link(["runs", r.id], r.id),
            badge(r.status, statusBadgeKind(r.status)),
            later(r.datasetId, datasetName(r.datasetId).then((n) => link(["datasets", n], n))),
            `epoch ${r.progress.epoch ?? 0}/${r.progress.epochs}, groups ${r.progress.groupsDone}/${r.progress.groupsTotal}`,
            versionLabel(r.latestVersion),
            when(r.createdAt),
          ]),
          "Runs, newest first",
          "runs-table",
        ),
    h("h2", {}, "Evaluations"),
    evaluations.data.length === 0
      ? h("p", {}, "No evaluation yet.")
      : table(
          ["Evaluation", "Status", "Purpose", "Versions (Mean@k)", "Started"],
          evaluations.data.map((e) => [
            link(["evaluations", e.id], e.id),
            badge(e.status, statusBadgeKind(e.status)),
            e.purpose,
            e.versions.map((v) => `${v.label}: ${v.meanAtK === null ? "—" : v.meanAtK.toFixed(3)}`).join(", "),
            when(e.createdAt),
          ]),
          "Evaluations, newest first",
        ),
  );
}

function gateText(gate: Agent["gate"]): string {
  if (!gate) return "none (manual promotion only)";
  const then = gate.rollout === "canary" && gate.canary ? `, then a canary at ${gate.canary.percent}%` : "";
  if (gate.kind === "replay") return `replay of ${gate.sample} captured requests, G=${gate.G}, ${gate.judge} judge, margin ${gate.margin}${then}`;
  return `on ${gate.dataset}, k=${gate.k}, margin ${gate.margin}${then}`;
}
