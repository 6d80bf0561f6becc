/** Promotions: every decision with who made it, the figures it rested on and its reason. */
import { api } from "../api";
import { append, badge, h, link, table } from "../dom";
import { interval, ratio, signed, versionLabel, when } from "../format";
import type { Params } from "../router";
import { agentNav, statusBadgeKind } from "./common";

export async function promotionsPage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const agent = params.agent ?? "";
  document.title = `${agent} promotions · tfgrpo`;
  const { active, data } = await api.promotions(agent, signal);
  append(
    main,
    h("h1", {}, "Promotions of ", h("span", { class: "name" }, agent)),
    agentNav(agent, "Promotions"),
    h("p", {}, "Serving now: ", h("strong", {}, versionLabel(active)), ". ", link(["agents", agent, "library"], "Promote or roll back in the library.")),
    data.length === 0
      ? h("p", {}, "No decision yet.")
      : table(
          ["When", "Decided by", "Decision", "From → to", "Figures", "Reason", "Run", "Evaluation"],
          data.map((p) => [
            when(p.createdAt),
            p.decidedBy,
            badge(p.decision, statusBadgeKind(p.decision)),
            `${versionLabel(p.fromVersion)} → ${versionLabel(p.toVersion)}`,
            p.figures
              ? `candidate ${ratio(p.figures.candidateMeanAtK)} vs active ${ratio(p.figures.activeMeanAtK)}: ${signed(p.figures.diff)} ${interval(p.figures.ci)}, margin ${p.figures.margin}, ${p.figures.questions} questions, k=${p.figures.k}`
              : "—",
            p.reason,
            p.runId ? link(["runs", p.runId], p.runId) : "—",
            p.evaluationId ? link(["evaluations", p.evaluationId], p.evaluationId) : "—",
          ]),
          "Decisions, newest first",
          "promotions-table",
        ),
  );
}
