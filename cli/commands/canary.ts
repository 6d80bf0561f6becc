import { Command } from "commander";
import type { CanaryChange, CanaryState, LiveMetrics } from "../adminClient";
import { context, enc, int, num } from "../connection";
import { fields, out, table } from "../output";

/**
 * Canaries (docs/serving.md, "Canary"): show the running one with the rule's verdict, start one, end one,
 * and the live metrics of every served version.
 */

const percent = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);
const points = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}`;
const within = (ci: { low: number; high: number } | null) => (ci ? `[${(ci.low * 100).toFixed(1)}, ${(ci.high * 100).toFixed(1)}]` : "");
const label = (v: number | null) => (v === null || v === 0 ? "none" : `v${v}`);

type Arm = NonNullable<CanaryState["verdict"]>["figures"]["candidate"];
const armRow = (name: string, version: number, a: Arm) => ({ name, version, ...a });

function showState(s: CanaryState): string {
  const lines: string[] = [];
  if (!s.canary) lines.push("no canary running");
  else {
    const c = s.canary;
    lines.push(
      fields([
        ["canary", c.id],
        ["candidate", `${label(c.version)} to ${c.percent}% of the traffic, sticky by ${c.stickyBy}`],
        ["compared with", label(c.baseVersion)],
        ["started", `${c.createdAt} (${c.startedBy}${c.runId ? `, run ${c.runId}` : ""})`],
        [
          "rules",
          `promote after ${c.rules.minRequests} rated requests per arm within −${points(c.rules.margin).slice(1)} points; roll back below −${points(c.rules.maxRewardDrop).slice(1)} points of reward or above +${points(c.rules.maxErrorIncrease).slice(1)} points of errors (after ${c.rules.minSamples})`,
        ],
      ]),
    );
    if (s.verdict) {
      const f = s.verdict.figures;
      lines.push(
        "",
        table(
          [armRow("candidate", f.candidateVersion, f.candidate), armRow("active", f.activeVersion, f.active)],
          [
            ["arm", (a) => a.name],
            ["version", (a) => label(a.version)],
            ["requests", (a) => a.requests],
            ["errors", (a) => `${a.errors} (${percent(a.errorRate)} ${within(a.errorCi)})`],
            ["rated", (a) => a.feedback],
            ["mean reward", (a) => `${percent(a.meanReward)} ${within(a.rewardCi)}`],
          ],
          80,
        ),
        "",
        `verdict: ${s.verdict.action} — ${s.verdict.reason}`,
      );
    }
  }
  const ended = s.history.filter((c) => c.status !== "running");
  if (ended.length > 0) {
    lines.push(
      "",
      "earlier canaries:",
      table(ended, [
        ["id", (c) => c.id],
        ["candidate", (c) => label(c.version)],
        ["vs", (c) => label(c.baseVersion)],
        ["percent", (c) => c.percent],
        ["status", (c) => c.status],
        ["ended", (c) => c.endedAt],
        ["reason", (c) => c.reason],
      ]),
    );
  }
  return lines.join("\n");
}

function showLive(m: LiveMetrics, buckets: boolean): string {
  const head = `${m.since} to ${m.until}${m.canaryId ? `, requests of canary ${m.canaryId}` : ""}`;
  if (m.versions.length === 0) return `${head}\nno request served in this window`;
  const overall = table(m.versions, [
    ["version", (v) => `${v.label}${v.arm ? ` (${v.arm})` : ""}`],
    ["requests", (v) => v.overall.requests],
    ["errors", (v) => `${v.overall.errors} (${percent(v.overall.errorRate)})`],
    ["p50 ms", (v) => v.overall.latencyMs.p50],
    ["p95 ms", (v) => v.overall.latencyMs.p95],
    ["tokens", (v) => v.overall.promptTokens + v.overall.completionTokens],
    ["rated", (v) => `${v.overall.feedback} (${percent(v.overall.feedbackRate)})`],
    ["mean reward [95% CI]", (v) => `${percent(v.overall.meanReward)} ${within(v.overall.rewardCi)}`],
  ]);
  const lines = [head, overall];
  if (m.verdict) lines.push("", `canary verdict: ${m.verdict.action} — ${m.verdict.reason}`);
  if (buckets) {
    for (const v of m.versions) {
      lines.push(
        "",
        `${v.label}, per ${m.bucketSeconds} s:`,
        table(
          v.buckets.filter((b) => b.requests > 0),
          [
            ["from", (b) => b.start],
            ["requests", (b) => b.requests],
            ["errors", (b) => b.errors],
            ["p50 ms", (b) => b.latencyMs.p50],
            ["p95 ms", (b) => b.latencyMs.p95],
            ["rated", (b) => b.feedback],
            ["mean reward", (b) => `${percent(b.meanReward)} ${within(b.rewardCi)}`],
          ],
        ),
      );
    }
  }
  return lines.join("\n");
}

export function canaryCommand(): Command {
  const cmd = new Command("canary").description("serve a candidate version to part of the traffic; promote or roll back on live feedback");

  cmd
    .command("show")
    .description("the running canary, the rule's verdict on its figures now, and earlier canaries")
    .argument("<agent>", "agent name or id")
    .action(async (agent: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const state = await api.get<CanaryState>(`/agents/${enc(agent)}/canary`);
      out(json, state, () => showState(state));
    });

  cmd
    .command("set")
    .description("start a canary of <version>")
    .argument("<agent>", "agent name or id")
    .argument("<version>", "candidate library version", int("version", 1))
    .requiredOption("--percent <p>", "share of the traffic served the candidate (0 < p < 100)", num("percent"))
    .option("--sticky-by <what>", "key (the proxy key) or header:<name> (e.g. header:x-user-id)", "key")
    .option("--min-requests <n>", "rated requests each arm needs before a promotion (default 100)", int("min-requests", 1))
    .option("--margin <x>", "promote when not worse than the active by more than this (default 0.02)", num("margin"))
    .option("--max-reward-drop <x>", "roll back when worse by more than this (default 0.05)", num("max-reward-drop"))
    .option(
      "--max-error-increase <x>",
      "roll back when the error rate is higher by more than this (default 0.02)",
      num("max-error-increase"),
    )
    .option("--min-samples <n>", "requests / rated requests each arm needs before a rollback (default 10)", int("min-samples", 1))
    .option("--reason <text>", "recorded with the decision")
    .addHelpText(
      "after",
      "\nExamples:\n  tfgrpo canary set math 4 --percent 20\n  tfgrpo canary set math 4 --percent 5 --sticky-by header:x-user-id --min-requests 200",
    )
    .action(
      async (
        agent: string,
        version: number,
        o: {
          percent: number;
          stickyBy: string;
          minRequests?: number;
          margin?: number;
          maxRewardDrop?: number;
          maxErrorIncrease?: number;
          minSamples?: number;
          reason?: string;
        },
        c: Command,
      ) => {
        const { api, json } = context(c);
        const optional = {
          minRequests: o.minRequests,
          margin: o.margin,
          maxRewardDrop: o.maxRewardDrop,
          maxErrorIncrease: o.maxErrorIncrease,
          minSamples: o.minSamples,
          reason: o.reason,
        };
        const body = {
          version,
          percent: o.percent,
          stickyBy: o.stickyBy,
          ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
        };
        const res = await api.request<CanaryChange>("PUT", `/agents/${enc(agent)}/canary`, { body });
        out(
          json,
          res,
          () =>
            `${agent}: canary ${res.canary.id} serves ${label(res.canary.version)} to ${res.canary.percent}% (sticky by ${res.canary.stickyBy}) next to ${label(res.canary.baseVersion)}`,
        );
      },
    );

  cmd
    .command("ramp")
    .description("change the running canary's share of the traffic; its users, rules and figures carry on")
    .argument("<agent>", "agent name or id")
    .argument("<percent>", "the candidate's new share, above 0 and below 100")
    .option("--reason <text>", "recorded with the decision")
    .addHelpText("after", "\nExample:\n  tfgrpo canary ramp math 50 --reason 'no regressions at 20%'")
    .action(async (agent: string, percent: string, o: { reason?: string }, c: Command) => {
      const { api, json } = context(c);
      const body = { percent: Number(percent), ...(o.reason ? { reason: o.reason } : {}) };
      const res = await api.request<CanaryChange>("PATCH", `/agents/${enc(agent)}/canary`, { body });
      out(
        json,
        res,
        () => `${agent}: canary ${res.canary.id} now serves ${label(res.canary.version)} to ${res.canary.percent}% of the traffic`,
      );
    });

  cmd
    .command("end")
    .description("end the running canary; the active version serves everyone again")
    .argument("<agent>", "agent name or id")
    .option("--reason <text>", "recorded with the decision")
    .action(async (agent: string, o: { reason?: string }, c: Command) => {
      const { api, json } = context(c);
      const res = await api.request<CanaryChange>("DELETE", `/agents/${enc(agent)}/canary`, {
        query: o.reason ? { reason: o.reason } : {},
      });
      out(json, res, () => `${agent}: canary ${res.canary.id} ended; ${label(res.canary.baseVersion)} serves all traffic`);
    });

  cmd
    .command("live")
    .description("live metrics per served version: requests, errors, latency, tokens, feedback and mean reward with 95% intervals")
    .argument("<agent>", "agent name or id")
    .option("--since <iso>", "start of the window (default: the running canary's start, else 24 hours ago)")
    .option("--until <iso>", "end of the window (default: now)")
    .option("--bucket <seconds>", "size of a time bucket", int("bucket", 60))
    .option("--canary <id>", "only the requests this canary assigned")
    .option("--buckets", "also print each version's figures per time bucket")
    .action(
      async (agent: string, o: { since?: string; until?: string; bucket?: number; canary?: string; buckets?: boolean }, c: Command) => {
        const { api, json } = context(c);
        const query: Record<string, string> = {};
        if (o.since) query.since = o.since;
        if (o.until) query.until = o.until;
        if (o.bucket !== undefined) query.bucketSeconds = String(o.bucket);
        if (o.canary) query.canary = o.canary;
        const live = await api.get<LiveMetrics>(`/agents/${enc(agent)}/versions/live`, query);
        out(json, live, () => showLive(live, o.buckets === true));
      },
    );
  return cmd;
}
