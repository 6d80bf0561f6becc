/** Evaluations: Mean@k and Pass@k per version with 95% interval whiskers, paired differences, per question. */
import { api, type Evaluation } from "../api";
import { chart, whiskers } from "../charts";
import { alertBox, append, badge, clear, facts, h, later, link, table } from "../dom";
import { interval, num, ratio, signed, when } from "../format";
import { agentName, datasetName } from "../names";
import type { Params } from "../router";
import { agentNav, poll, statusBadgeKind } from "./common";

const PAGE = 100;
const live = (e: Evaluation) => e.status === "queued" || e.status === "running";

export async function evaluationsPage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const agent = params.agent ?? "";
  document.title = `${agent} evaluations · tfgrpo`;
  const { data } = await api.evaluations(agent, 100, signal);
  append(
    main,
    h("h1", {}, "Evaluations of ", h("span", { class: "name" }, agent)),
    agentNav(agent, "Evaluations"),
    data.length === 0
      ? h("p", {}, "No evaluation yet. Start one with ", h("code", {}, "npx tfgrpo eval start"), ".")
      : table(
          ["Evaluation", "Status", "Purpose", "Data set", "k", "Versions (Mean@k)", "Paired difference", "Started"],
          data.map((e) => [
            link(["evaluations", e.id], e.id),
            badge(e.status, statusBadgeKind(e.status)),
            e.purpose,
            e.replay ? `${e.replay.captures} captured requests (replay)` : later(e.datasetId, datasetName(e.datasetId).then((n) => link(["datasets", n], n))),
            num(e.params.k),
            e.versions.map((v) => `${v.label}: ${ratio(v.meanAtK)}`).join(", "),
            e.paired ? `${signed(e.paired.diff)} ${interval(e.paired.ci95)}` : "—",
            when(e.createdAt),
          ]),
          "Evaluations, newest first",
          "evaluations-table",
        ),
  );
}

function figures(e: Evaluation, signal: AbortSignal): HTMLElement {
  const labels = e.versions.map((v) => v.label);
  const byVersion = new Map(e.versions.map((v) => [v.version, v.label]));
  return h(
    "div",
    {},
    chart(
      `Mean@${e.params.k} per version (diamond) with its 95% bootstrap interval over questions (whisker); Pass@${e.params.k} (circle)`,
      "eval-whiskers",
      whiskers(labels, [
        { label: `Mean@${e.params.k}`, value: e.versions.map((v) => v.meanAtK), ci: e.versions.map((v) => v.ci95) },
      ], { yMin: 0, yMax: 1, points: [{ label: `Pass@${e.params.k}`, data: e.versions.map((v) => v.passAtK) }] }),
      signal,
    ),
    table(
      ["Version", "Questions done", `Mean@${e.params.k}`, "95% interval", `Pass@${e.params.k}`, "Tokens"],
      e.versions.map((v) => [
        v.label,
        `${num(v.questionsDone)} of ${num(e.questions ?? e.progress.questions)}`,
        ratio(v.meanAtK),
        interval(v.ci95),
        ratio(v.passAtK),
        v.tokens ? num(v.tokens.promptTokens + v.tokens.completionTokens) : "—",
      ]),
      "Figures per version",
      "eval-figures",
    ),
    e.comparisons.length === 0
      ? null
      : [
          h("h2", {}, "Paired differences"),
          chart(
            "Difference in Mean@k against the last version listed, with its paired 95% interval",
            "eval-diff",
            whiskers(e.comparisons.map((c) => `${byVersion.get(c.version) ?? c.version} − ${byVersion.get(c.against) ?? c.against}`), [
              { label: "difference", value: e.comparisons.map((c) => c.diff), ci: e.comparisons.map((c) => c.ci95) },
            ]),
            signal,
          ),
          table(
            ["Version", "Against", "Difference", "Paired 95% interval", "Verdict"],
            e.comparisons.map((c) => [
              byVersion.get(c.version) ?? String(c.version),
              byVersion.get(c.against) ?? String(c.against),
              signed(c.diff),
              interval(c.ci95),
              c.ci95.low > 0 ? "better (interval above 0)" : c.ci95.high < 0 ? "worse (interval below 0)" : "no clear difference",
            ]),
            "Paired differences",
            "eval-paired",
          ),
        ],
  );
}

function perQuestion(e: Evaluation, offset: number, onPage: (offset: number) => void): HTMLElement {
  const labels = e.versions.map((v) => v.label);
  const rows = e.perQuestion ?? [];
  const total = e.questions ?? e.progress.questions;
  const cell = (rewards: number[] | undefined) => {
    if (!rewards || rewards.length === 0) return "—";
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    return h("span", { class: mean >= 1 ? "good" : mean <= 0 ? "bad" : "mixed", title: rewards.join(", ") }, `${rewards.filter((r) => r >= 1).length}/${rewards.length}`);
  };
  return h(
    "section",
    { attrs: { "aria-label": "Per question" } },
    h("h2", {}, "Per question"),
    table(["Question", "Sample id", ...labels], rows.map((q) => [String(q.idx), q.sampleId ?? "—", ...labels.map((l) => cell(q.rewards[l]))]), "Correct samples per question and version", "eval-questions"),
    h(
      "div",
      { class: "pager" },
      h("button", { attrs: { type: "button", disabled: offset === 0 }, onClick: () => onPage(Math.max(0, offset - PAGE)) }, "Previous"),
      ` questions ${total === 0 ? 0 : offset + 1}–${Math.min(total, offset + PAGE)} of ${total} `,
      h("button", { attrs: { type: "button", disabled: offset + PAGE >= total }, onClick: () => onPage(offset + PAGE) }, "Next"),
    ),
  );
}

export async function evaluationPage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const id = params.evaluation ?? "";
  document.title = `Evaluation ${id} · tfgrpo`;
  const body = h("div");
  append(main, h("h1", {}, "Evaluation ", h("span", { class: "name" }, id)), body);
  let offset = 0;
  let charts = new AbortController();
  signal.addEventListener("abort", () => charts.abort(), { once: true });
  let last = "";
  const draw = async (force: boolean): Promise<boolean> => {
    const e = await api.evaluation(id, { offset, limit: PAGE }, signal);
    const [agent, dataset] = await Promise.all([agentName(e.agentId), e.replay ? Promise.resolve("") : datasetName(e.datasetId)]);
    if (signal.aborted) return false;
    const key = `${e.status}|${e.updatedAt}|${offset}`;
    if (force || key !== last) {
      last = key;
      charts.abort();
      charts = new AbortController();
      clear(body);
      append(
        body,
        agentNav(agent, "Evaluations"),
        facts([
          ["Status", badge(e.status, statusBadgeKind(e.status))],
          ["Agent", link(["agents", agent], agent)],
          e.replay
            ? ["Replayed", `${e.replay.captures} held-out captured requests, ${e.replay.judge} judge${e.replay.judgeModel ? ` (${e.replay.judgeModel})` : ""}, without labels; k is G`]
            : ["Data set", link(["datasets", dataset], dataset)],
          ["Purpose", [e.purpose, e.runId ? [" for run ", link(["runs", e.runId], e.runId)] : ""]],
          ["Progress", [h("progress", { attrs: { max: Math.max(1, e.progress.total), value: e.progress.scored, "aria-label": "Samples scored" } }), ` ${num(e.progress.scored)} of ${num(e.progress.total)} samples`]],
          ["Parameters", `k=${e.params.k}, temperature ${e.params.temperature}, seed ${e.params.seed}`],
          ["Started", when(e.createdAt)],
        ]),
        e.error ? alertBox(e.error) : null,
        figures(e, charts.signal),
        perQuestion(e, offset, (next) => {
          offset = next;
          void draw(true);
        }),
      );
    }
    return live(e);
  };
  await poll(signal, 2000, () => draw(false));
}
