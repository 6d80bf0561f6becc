/** Usage of the proxy: requests, tokens, latency p50/p99 and errors over time, and by key. */
import { api } from "../api";
import { chart, lines, stackedBars } from "../charts";
import { append, facts, h, table } from "../dom";
import { ms, num, when } from "../format";
import type { Params } from "../router";
import { bucketSize, buckets, byKey } from "../usageStats";
import { agentNav } from "./common";

const ROWS = 1000;

export async function usagePage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const agent = params.agent ?? "";
  document.title = `${agent} usage · tfgrpo`;
  const [usage, keys] = await Promise.all([api.usage(agent, ROWS, signal), api.keys(agent, signal)]);
  const names = new Map(keys.data.map((k) => [k.id, `${k.name ?? "unnamed"} (${k.prefix}…)`]));
  const t = usage.totals;
  append(
    main,
    h("h1", {}, "Usage of ", h("span", { class: "name" }, agent)),
    agentNav(agent, "Usage"),
    h("h2", {}, "All logged requests"),
    facts([
      ["Requests", num(t.requests)],
      ["Errors", num(t.errors)],
      ["Tokens", `${num(t.promptTokens + t.completionTokens)} (${num(t.cachedTokens)} cached)`],
      ["Mean latency", ms(t.avgLatencyMs)],
      ["Mean time to first byte", ms(t.avgTtfbMs)],
    ]),
  );
  const rows = usage.data;
  if (rows.length === 0) {
    append(main, h("p", {}, "No request has been served yet."));
    return;
  }
  const size = bucketSize(rows);
  const series = buckets(rows, size);
  const labels = series.map((b) => new Date(b.start).toLocaleString(undefined, size >= 24 * 3600_000 ? { dateStyle: "short" } : { dateStyle: "short", timeStyle: "short" }));
  const span = `the ${num(rows.length)} most recent requests (${when(rows[rows.length - 1]?.createdAt)} to ${when(rows[0]?.createdAt)})`;
  const per = `per ${size >= 3600_000 ? `${size / 3600_000} h` : `${size / 60_000} min`}`;
  append(
    main,
    h("h2", {}, "Over time"),
    h("p", {}, `From ${span}, ${per}.`),
    h(
      "div",
      { class: "charts" },
      chart("Requests and errors", "usage-requests", stackedBars(labels, [
        { label: "ok", data: series.map((b) => b.requests - b.errors), color: "#1d4ed8" },
        { label: "errors", data: series.map((b) => b.errors), color: "#b91c1c" },
      ]), signal),
      chart("Latency p50 and p99 (ms)", "usage-latency", lines(labels, [
        { label: "p50", data: series.map((b) => b.p50) },
        { label: "p99", data: series.map((b) => b.p99) },
      ], { yMin: 0 }), signal),
      chart("Tokens", "usage-tokens", lines(labels, [{ label: "tokens", data: series.map((b) => b.tokens) }], { yMin: 0 }), signal),
    ),
    h("h2", {}, "By key"),
    table(
      ["Key", "Requests", "Errors", "Tokens", "Latency p50", "Latency p99"],
      byKey(rows).map(({ keyId, figures: f }) => [keyId === null ? "no key recorded" : (names.get(keyId) ?? `${keyId} (revoked)`), num(f.requests), num(f.errors), num(f.tokens), ms(f.p50), ms(f.p99)]),
      `By key, over ${span}`,
      "usage-by-key",
    ),
    h("h2", {}, "Recent requests"),
    table(
      ["When", "Key", "Status", "Version", "Model", "Tokens", "Latency", "Stream"],
      rows.slice(0, 50).map((r) => [when(r.createdAt), r.keyId ? (names.get(r.keyId) ?? r.keyId) : "—", String(r.status), r.version === null ? "—" : `v${r.version}`, r.model ?? "—", num((r.promptTokens ?? 0) + (r.completionTokens ?? 0)), ms(r.latencyMs), r.stream ? "yes" : "no"]),
      "The 50 most recent requests",
    ),
  );
}
