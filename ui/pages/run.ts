/**
 * A training run: live progress, learning curves per batch, the batches, and the drill-down into a
 * batch's groups and one group's rollouts, summaries, critiques and proposed operations.
 */
import { api, type Group, type Run } from "../api";
import { chart, lines, stackedBars } from "../charts";
import { alertBox, append, badge, clear, facts, h, link, pre, table } from "../dom";
import { num, ratio, usd, versionLabel, when } from "../format";
import { agentName, datasetName } from "../names";
import { intParam, type Params } from "../router";
import { actionButton, confirmAction, poll, statusBadgeKind } from "./common";

/** A hyperparameter's value as text: lists and objects (tools) as JSON, an empty list as "none". */
const paramText = (v: unknown): string =>
  v === null || v === undefined ? "—" : Array.isArray(v) && v.length === 0 ? "none" : typeof v === "object" ? JSON.stringify(v) : String(v);

const live = (run: Run) => run.status === "queued" || run.status === "running";
const batchLabel = (b: { epoch: number; batch: number }) => `e${b.epoch} b${b.batch}`;

function tokens(run: Run): { prompt: number; completion: number; calls: number } {
  return run.llm.reduce((s, u) => ({ prompt: s.prompt + u.promptTokens, completion: s.completion + u.completionTokens, calls: s.calls + u.calls }), { prompt: 0, completion: 0, calls: 0 });
}

/** How the run is split across Workflow instances and the most steps each kind takes, against the per-instance limit. */
function planView(run: Run): string {
  const { plan } = run;
  return `1 run (${num(plan.run.maxSteps)} steps), ${num(plan.segments.instances)} segment${plan.segments.instances === 1 ? "" : "s"} (≤ ${num(plan.segments.maxSteps)} steps, ${num(plan.segments.batchesEach)} batches each), ${num(plan.lanes.instances)} lanes (≤ ${num(plan.lanes.maxSteps)} steps); limit ${num(plan.limit)} per instance`;
}

function progressView(run: Run): HTMLElement {
  const p = run.progress;
  const t = tokens(run);
  const bar = h("progress", { attrs: { max: Math.max(1, p.groupsTotal), value: p.groupsDone, "aria-label": "Groups done" } });
  return h(
    "section",
    { attrs: { "aria-label": "Progress", "data-testid": "run-progress" } },
    facts([
      ["Status", [badge(run.status, statusBadgeKind(run.status)), run.reason ? ` (${run.reason})` : ""]],
      ["Epoch", `${p.epoch ?? 0} of ${p.epochs}`],
      ["Batch", live(run) ? `${p.batch === null ? "—" : p.batch + 1} of ${p.batchesPerEpoch}` : `${run.batches.length} batch${run.batches.length === 1 ? "" : "es"} done (${p.batchesPerEpoch} per epoch)`],
      ["Groups", [bar, ` ${num(p.groupsDone)} of ${num(p.groupsTotal)} (kept ${run.groups.kept}, skipped ${run.groups.skipped}, dropped ${run.groups.dropped})`]],
      ["Rollouts", `${num(p.rolloutsDone)} of ${num(p.rolloutsTotal)}`],
      ["Tokens", `${num(t.prompt + t.completion)} (${num(t.prompt)} prompt, ${num(t.completion)} completion) in ${num(t.calls)} calls`],
      ["Cost", run.cost ? usd(run.cost.usd) : "prices not configured"],
      ["Instances", planView(run)],
      ["Steps", p.steps ? `${num(p.steps.run)} run + ${num(p.steps.segments)} in segments + ${num(p.steps.lanes)} in lanes (at most ${num(p.steps.maxPerInstance)} in one instance)` : "—"],
      ["Versions", `from ${versionLabel(run.fromVersion)} to ${versionLabel(run.latestVersion)}`],
      ["Updated", when(run.updatedAt)],
    ]),
    run.error ? alertBox(run.error) : null,
  );
}

function curves(run: Run, signal: AbortSignal): HTMLElement {
  const done = run.batches.filter((b) => b.status !== "pending");
  if (done.length === 0) return h("p", { attrs: { "data-testid": "no-curves" } }, "No batch has finished yet.");
  const labels = done.map(batchLabel);
  return h(
    "div",
    { class: "charts" },
    chart(
      "Mean@G and Pass@G per batch",
      "curve-reward",
      lines(labels, [
        { label: "Mean@G", data: done.map((b) => b.meanAtG) },
        { label: "Pass@G", data: done.map((b) => b.passAtG) },
      ], { yMin: 0, yMax: 1 }),
      signal,
    ),
    chart(
      "Groups per batch: kept, skipped (all rewards equal), dropped",
      "curve-groups",
      stackedBars(labels, [
        { label: "kept", data: done.map((b) => b.groupsKept), color: "#047857" },
        { label: "skipped", data: done.map((b) => b.groupsSkipped), color: "#9ca3af" },
        { label: "dropped", data: done.map((b) => b.groupsDropped), color: "#b91c1c" },
      ]),
      signal,
    ),
    chart(
      "Tokens per batch: prompt and completion, of its groups and its update",
      "curve-tokens",
      stackedBars(labels, [
        { label: "prompt", data: done.map((b) => b.promptTokens), color: "#1d4ed8" },
        { label: "completion", data: done.map((b) => b.completionTokens), color: "#b45309" },
      ]),
      signal,
    ),
  );
}

const opsText = (ops: Record<string, number>) =>
  Object.entries(ops)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ${n}`)
    .join(", ") || "—";

function batchesTable(run: Run, agent: string): HTMLElement {
  return table(
    ["Batch", "Status", "Mean@G", "Pass@G", "Kept", "Skipped", "Dropped", "Operations", "Version", "Groups"],
    run.batches.map((b) => [
      batchLabel(b),
      badge(b.status, statusBadgeKind(b.status)),
      ratio(b.meanAtG),
      ratio(b.passAtG),
      num(b.groupsKept),
      num(b.groupsSkipped),
      num(b.groupsDropped),
      opsText(b.operations),
      b.version === null ? "—" : h("a", { route: ["agents", agent, "library"], query: { v: b.version } }, versionLabel(b.version)),
      link(["runs", run.id, "batches", b.epoch, b.batch], "groups"),
    ]),
    "Batches",
    "batches-table",
  );
}

function usageTable(run: Run): HTMLElement {
  return table(
    ["Stage", "Calls", "Attempts", "Prompt tokens", "Completion tokens", "Cached"],
    run.llm.map((u) => [u.stage, num(u.calls), num(u.attempts), num(u.promptTokens), num(u.completionTokens), num(u.cachedTokens)]),
    "LLM calls by stage",
  );
}

export async function runPage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const id = params.run ?? "";
  document.title = `Run ${id} · tfgrpo`;
  const heading = h("h1", {}, "Run ", h("span", { class: "name" }, id));
  const actions = h("div", { class: "actions" });
  const notice = h("p", { role: "status", attrs: { "data-testid": "run-notice" } });
  const body = h("div");
  append(main, heading, actions, notice, body);
  let lastStatus = "";
  let lastUpdated = "";
  let charts = new AbortController();
  signal.addEventListener("abort", () => charts.abort(), { once: true });
  await poll(signal, 2000, async () => {
    const run = await api.run(id, signal);
    const [agent, dataset] = await Promise.all([agentName(run.agentId), datasetName(run.datasetId)]);
    if (signal.aborted) return false;
    // The buttons are redrawn only when the status changes, so a click never lands on a replaced one.
    if (run.status !== lastStatus) {
      lastStatus = run.status;
      clear(actions);
      append(actions, h("p", {}, "Agent ", link(["agents", agent], agent), " · data set ", link(["datasets", dataset], dataset), ` · ${run.kind}`));
      if (live(run)) {
        append(
          actions,
          actionButton("Cancel run", async () => {
            if (!(await confirmAction("Cancel this run?", `Run ${run.id} stops at its next batch boundary. Library versions it has made are kept.`, "Cancel run"))) return;
            await api.cancelRun(run.id);
            notice.textContent = "Cancelled: the run stops at its next batch boundary.";
          }, { testId: "cancel-run" }),
          actionButton("Recover", async () => {
            const r = await api.recoverRun(run.id);
            notice.textContent = `Recovery: ${r.run}; ${r.segments} segment and ${r.lanes} lane instance(s) nudged, ${r.recreated} created, ${r.restarted} restarted, ${r.reports} report(s) re-sent.`;
          }, { testId: "recover-run" }),
        );
      }
    }
    // The rest is redrawn only when something moved: charts keep their state between identical polls.
    if (run.updatedAt !== lastUpdated || body.childElementCount === 0) {
      lastUpdated = run.updatedAt;
      const hp = run.params;
      // A redraw destroys the previous drawing's charts.
      charts.abort();
      charts = new AbortController();
      clear(body);
      append(
        body,
        progressView(run),
        h("h2", {}, "Learning curves"),
        curves(run, charts.signal),
        h("h2", {}, "Batches"),
        batchesTable(run, agent),
        h("h2", {}, "Usage"),
        usageTable(run),
        h("h2", {}, "Hyperparameters"),
        facts(Object.entries(hp).map(([k, v]) => [k, paramText(v)] as const)),
      );
    }
    return live(run);
  });
}

function groupRow(run: string, g: Group) {
  return [
    link(["runs", run, "groups", g.epoch, g.sampleIdx], `sample ${g.sampleIdx}`),
    badge(g.status, statusBadgeKind(g.status)),
    ratio(g.meanReward),
    g.passed ? "yes" : "no",
    num(g.experiences.length),
    g.operations.map((o) => ("id" in o ? `${o.op} ${o.id}` : o.op)).join(", ") || "—",
    g.reason ?? "",
  ];
}

export async function batchPage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const run = params.run ?? "";
  const epoch = intParam(params, "epoch");
  const batch = intParam(params, "batch");
  if (epoch === null || batch === null) throw new Error("epoch and batch must be numbers");
  document.title = `Run ${run} e${epoch} b${batch} · tfgrpo`;
  const { data } = await api.groups(run, { epoch, batch }, signal);
  append(
    main,
    h("p", {}, link(["runs", run], `← run ${run}`)),
    h("h1", {}, `Epoch ${epoch}, batch ${batch}: groups`),
    data.length === 0
      ? h("p", {}, "No group of this batch has reported yet.")
      : table(["Group", "Status", "Mean reward", "Any correct", "Experiences", "Proposed operations", "Reason"], data.map((g) => groupRow(run, g)), "Groups", "groups-table"),
  );
}

export async function groupPage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const runId = params.run ?? "";
  const epoch = intParam(params, "epoch");
  const sample = intParam(params, "sample");
  if (epoch === null || sample === null) throw new Error("epoch and sample must be numbers");
  document.title = `Group e${epoch} s${sample} · tfgrpo`;
  const [run, groups, rollouts] = await Promise.all([api.run(runId, signal), api.groups(runId, { epoch, sample }, signal), api.rollouts(runId, { epoch, sample }, signal)]);
  const group = groups.data[0] ?? null;
  const question = await api.samples(run.datasetId, sample, 1, signal).then((p) => p.data[0] ?? null);
  append(
    main,
    h("p", {}, link(["runs", runId], `← run ${runId}`), group ? [" · ", link(["runs", runId, "batches", epoch, group.batch], `epoch ${epoch}, batch ${group.batch}`)] : null),
    h("h1", {}, `Group: epoch ${epoch}, sample ${sample}`),
    h("h2", {}, "Question"),
    pre(question?.question),
    facts([
      ["Ground truth", question?.answer ?? "—"],
      ["Status", group ? badge(group.status, statusBadgeKind(group.status)) : "not reported yet"],
      ["Mean reward", ratio(group?.meanReward)],
      ["Reason", group?.reason ?? "—"],
    ]),
    h("h2", {}, "Group advantage"),
    pre(group?.advantage, "text advantage"),
    h("h2", {}, "Experiences extracted"),
    group && group.experiences.length > 0 ? h("ul", {}, group.experiences.map((e) => h("li", {}, h("strong", {}, e.name), ": ", e.text))) : h("p", {}, "None."),
    h("h2", {}, "Proposed operations"),
    group && group.operations.length > 0
      ? h(
          "ul",
          { attrs: { "data-testid": "operations" } },
          group.operations.map((o) =>
            h("li", {}, h("code", {}, o.op), "id" in o ? ` ${o.id}` : "", "name" in o && o.name ? [" ", h("strong", {}, o.name)] : "", "text" in o ? `: ${o.text}` : "", "reason" in o && o.reason ? ` (${o.reason})` : ""),
          ),
        )
      : h("p", {}, "None."),
    h("h2", {}, `Rollouts (${rollouts.data.length})`),
    rollouts.data.map((r) =>
      h(
        "article",
        { class: "rollout", attrs: { "data-testid": "rollout", "aria-label": `Rollout ${r.rolloutIdx}` } },
        h("h3", {}, `Rollout ${r.rolloutIdx} `, badge(`reward ${r.reward}`, r.reward >= 1 ? "good" : r.reward <= 0 ? "bad" : "neutral"), h("small", {}, ` with library ${versionLabel(r.promptVersion)}`)),
        h("h4", {}, "Response"),
        pre(r.response),
        r.critique ? [h("h4", {}, "Critique"), pre(r.critique)] : null,
        h("h4", {}, "Summary"),
        pre(r.summary ?? (group?.status === "kept" ? "—" : "not summarised (the group carried no signal)")),
      ),
    ),
  );
}
