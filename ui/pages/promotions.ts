/** Promotions: every decision with who made it, the figures it rested on and its reason. */
import { api, type PromotionList } from "../api";
import { append, badge, h, link, table } from "../dom";
import { interval, ratio, signed, versionLabel, when } from "../format";
import type { Params } from "../router";
import { agentNav, statusBadgeKind } from "./common";

type Figures = PromotionList["data"][number]["figures"];

/** A gate's figures (Mean@k on its validation set) or a canary's (mean reward of live feedback per arm). */
function figuresText(f: Figures): string {
  if (!f) return "—";
  if ("k" in f) return `candidate ${ratio(f.candidateMeanAtK)} vs active ${ratio(f.activeMeanAtK)}: ${signed(f.diff)} ${interval(f.ci)}, margin ${f.margin}, ${f.questions} questions, k=${f.k}`;
  const arm = (a: typeof f.candidate) => `${ratio(a.meanReward)} on ${a.feedback} rated of ${a.requests}`;
  return `live reward: candidate ${arm(f.candidate)} vs active ${arm(f.active)}${f.rewardDiff ? `: ${signed(f.rewardDiff.diff)} ${interval(f.rewardDiff.ci)}` : ""}, errors ${f.candidate.errors} vs ${f.active.errors}`;
}

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
            figuresText(p.figures),
            p.reason,
            p.runId ? link(["runs", p.runId], p.runId) : "—",
            p.evaluationId ? link(["evaluations", p.evaluationId], p.evaluationId) : "—",
          ]),
          "Decisions, newest first",
          "promotions-table",
        ),
  );
}
