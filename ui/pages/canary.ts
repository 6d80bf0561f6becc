/** The agent page's canary and live metrics (docs/serving.md, "Canary" and "Live metrics"). */
import { api, type CanaryState, type LiveMetrics } from "../api";
import { chart, lines } from "../charts";
import { append, badge, facts, h, table } from "../dom";
import { interval, ms, num, ratio, signed, versionLabel, when } from "../format";
import { actionButton, confirmAction } from "./common";

type Arm = NonNullable<CanaryState["verdict"]>["figures"]["candidate"];

const share = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)}%`);
const armRow = (name: string, version: number, a: Arm) => [name, versionLabel(version), num(a.requests), `${num(a.errors)} (${share(a.errorRate)})`, num(a.feedback), a.meanReward === null ? "—" : `${ratio(a.meanReward)} ${interval(a.rewardCi)}`];

async function endCanary(agent: string, state: CanaryState, rerender: () => void): Promise<void> {
  const c = state.canary;
  if (!c) return;
  const ok = await confirmAction(
    "End the canary?",
    `${versionLabel(c.version)} stops serving ${c.percent}% of ${agent}'s traffic; ${versionLabel(c.baseVersion)} serves everyone again. The decision is recorded with the figures so far.`,
    "End canary",
  );
  if (!ok) return;
  await api.endCanary(agent);
  rerender();
}

async function rampCanary(agent: string, state: CanaryState, input: HTMLInputElement, rerender: () => void): Promise<void> {
  const c = state.canary;
  if (!c) return;
  const percent = Number(input.value);
  if (!(percent > 0 && percent < 100)) throw new Error("the share must be above 0 and below 100 percent");
  const ok = await confirmAction(
    "Ramp the canary?",
    `${versionLabel(c.version)} goes from ${c.percent}% to ${percent}% of ${agent}'s traffic. ${
      percent > c.percent ? "Users it serves now keep it; more join." : "Some users it serves now go back to the active version."
    } The rule, the figures so far and the canary carry on. The change is recorded.`,
    "Ramp",
  );
  if (!ok) return;
  await api.rampCanary(agent, percent);
  rerender();
}

function canaryView(agent: string, state: CanaryState, rerender: () => void): HTMLElement {
  const c = state.canary;
  if (!c) {
    const last = state.history[0];
    return h(
      "div",
      { attrs: { "data-testid": "canary" } },
      h("p", {}, "No canary running. Start one with ", h("code", {}, `npx tfgrpo canary set ${agent} <version> --percent 20`), " or PUT /api/agents/{agent}/canary."),
      last ? h("p", {}, `Last canary: ${versionLabel(last.version)} vs ${versionLabel(last.baseVersion)}, `, badge(last.status.replace("_", " "), last.status === "promoted" ? "good" : last.status === "rolled_back" ? "bad" : "neutral"), ` ${when(last.endedAt)}: ${last.reason ?? ""}`) : null,
    );
  }
  const v = state.verdict;
  const rampInput = h("input", {
    attrs: { type: "number", min: 0.1, max: 99.9, step: "any", value: c.percent, "aria-label": "new share of the traffic, in percent", "data-testid": "ramp-percent", size: 5 },
  });
  return h(
    "div",
    { attrs: { "data-testid": "canary" } },
    facts([
      ["Candidate", `${versionLabel(c.version)} to ${c.percent}% of the traffic, sticky by ${c.stickyBy}`],
      ["Compared with", versionLabel(c.baseVersion)],
      ["Started", `${when(c.createdAt)} (${c.startedBy})`],
      ["Promote", `after ${num(c.rules.minRequests)} rated requests per arm, when the reward difference's 95% interval stays above −${c.rules.margin}`],
      ["Roll back", `when reward is worse by more than ${c.rules.maxRewardDrop} or errors higher by more than ${c.rules.maxErrorIncrease}, with 95% confidence (after ${c.rules.minSamples})`],
    ]),
    v
      ? [
          table(
            ["Arm", "Version", "Requests", "Errors", "Rated", "Mean reward [95% CI]"],
            [armRow("candidate", v.figures.candidateVersion, v.figures.candidate), armRow("active", v.figures.activeVersion, v.figures.active)],
            "The canary's two arms",
            "canary-arms",
          ),
          h(
            "p",
            {},
            "Verdict now: ",
            badge(v.action, v.action === "promote" ? "good" : v.action === "rollback" ? "bad" : "live"),
            " ",
            v.reason,
            v.figures.rewardDiff ? ` (reward difference ${signed(v.figures.rewardDiff.diff)} ${interval(v.figures.rewardDiff.ci)})` : "",
          ),
        ]
      : null,
    h("p", { class: "actions" }, rampInput, " % ", actionButton("Ramp", () => rampCanary(agent, state, rampInput, rerender), { testId: "ramp-canary" })),
    actionButton("End canary", () => endCanary(agent, state, rerender), { testId: "end-canary" }),
  );
}

function liveView(live: LiveMetrics, signal: AbortSignal): HTMLElement {
  const name = (v: LiveMetrics["versions"][number]) => `${v.label}${v.arm ? ` (${v.arm})` : ""}`;
  const range = `From ${when(live.since)} to ${when(live.until)}, per ${live.bucketSeconds >= 3600 ? `${live.bucketSeconds / 3600} h` : `${live.bucketSeconds / 60} min`}.`;
  if (live.versions.length === 0) return h("p", { attrs: { "data-testid": "live-metrics" } }, `${range} No request served in this window.`);
  const first = live.versions[0];
  const labels = (first?.buckets ?? []).map((b) => new Date(b.start).toLocaleTimeString(undefined, { timeStyle: "short" }));
  return h(
    "div",
    {},
    h("p", {}, range),
    table(
      ["Version", "Requests", "Errors", "Latency p50", "Latency p95", "Tokens", "Rated", "Mean reward [95% CI]"],
      live.versions.map((v) => [
        name(v),
        num(v.overall.requests),
        `${num(v.overall.errors)} (${share(v.overall.errorRate)})`,
        ms(v.overall.latencyMs.p50),
        ms(v.overall.latencyMs.p95),
        num(v.overall.promptTokens + v.overall.completionTokens),
        `${num(v.overall.feedback)} (${share(v.overall.feedbackRate)})`,
        v.overall.meanReward === null ? "—" : `${ratio(v.overall.meanReward)} ${interval(v.overall.rewardCi)}`,
      ]),
      "Live metrics per served version",
      "live-metrics",
    ),
    h(
      "div",
      { class: "charts" },
      chart("Mean reward per version over time", "live-reward", lines(labels, live.versions.map((v) => ({ label: name(v), data: v.buckets.map((b) => b.meanReward) })), { yMin: 0, yMax: 1 }), signal),
      chart("Requests per version over time", "live-requests", lines(labels, live.versions.map((v) => ({ label: name(v), data: v.buckets.map((b) => b.requests) })), { yMin: 0 }), signal),
    ),
  );
}

/** The sections the agent page shows: the canary (with its verdict) and live metrics per version. */
export async function canarySections(agent: string, signal: AbortSignal): Promise<HTMLElement> {
  const [state, live] = await Promise.all([api.canary(agent, signal), api.live(agent, signal)]);
  const rerender = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const section = h("section", {});
  append(section, h("h2", {}, "Canary"), canaryView(agent, state, rerender), h("h2", {}, "Live metrics by version"), liveView(live, signal));
  return section;
}
