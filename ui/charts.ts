/**
 * Charts with Chart.js (bundled, docs/dashboard.md §4), registering only the parts we draw so the
 * bundle stays small. Every chart is a canvas with an accessible name; the numbers it shows are also
 * in a table on the same page.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration,
} from "chart.js";
import { h } from "./dom";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, ScatterController, Legend, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.color = "#1f2933";
Chart.defaults.font.family = "system-ui, sans-serif";

export const COLORS = ["#1d4ed8", "#b45309", "#047857", "#b91c1c", "#6d28d9", "#0e7490"];

/** A chart in a figure with a caption; destroyed when the page's signal aborts. */
export function chart(caption: string, testId: string, config: ChartConfiguration, signal: AbortSignal): HTMLElement {
  const canvas = h("canvas", { role: "img", attrs: { "aria-label": caption, "data-testid": testId } });
  const figure = h("figure", { class: "chart" }, h("div", { class: "chart-box" }, canvas), h("figcaption", {}, caption));
  // Chart.js measures its container, so it is created once the figure is in the document.
  queueMicrotask(() => {
    if (signal.aborted) return;
    const instance = new Chart(canvas, config);
    signal.addEventListener("abort", () => instance.destroy(), { once: true });
  });
  return figure;
}

/** A line chart of several series over shared labels. */
export function lines(
  labels: string[],
  series: { label: string; data: (number | null)[]; axis?: "y" | "y1" }[],
  opts: { yMin?: number; yMax?: number; y1Title?: string; yTitle?: string } = {},
): ChartConfiguration {
  const hasY1 = series.some((s) => s.axis === "y1");
  return {
    type: "line",
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.data,
        yAxisID: s.axis ?? "y",
        borderColor: COLORS[i % COLORS.length],
        backgroundColor: COLORS[i % COLORS.length],
        spanGaps: true,
        pointRadius: 3,
      })),
    },
    options: {
      scales: {
        y: { min: opts.yMin, max: opts.yMax, title: { display: !!opts.yTitle, text: opts.yTitle ?? "" } },
        ...(hasY1 ? { y1: { position: "right" as const, grid: { drawOnChartArea: false }, title: { display: !!opts.y1Title, text: opts.y1Title ?? "" } } } : {}),
      },
      interaction: { mode: "index", intersect: false },
    },
  };
}

/** Stacked bars (groups kept / skipped / dropped per batch, requests / errors per hour). */
export function stackedBars(labels: string[], series: { label: string; data: number[]; color: string }[]): ChartConfiguration {
  return {
    type: "bar",
    data: { labels, datasets: series.map((s) => ({ label: s.label, data: s.data, backgroundColor: s.color })) },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } }, interaction: { mode: "index", intersect: false } },
  };
}

/**
 * Point estimates with 95% interval whiskers: each interval is a thin floating bar from low to high
 * (Chart.js draws a [low, high] pair as a floating bar), the estimate a marker on it; `points` adds
 * series without an interval (Pass@k next to Mean@k).
 */
export function whiskers(
  labels: string[],
  series: { label: string; value: (number | null)[]; ci: ({ low: number; high: number } | null)[] }[],
  opts: { yMin?: number; yMax?: number; points?: { label: string; data: (number | null)[] }[] } = {},
): ChartConfiguration {
  const datasets: ChartConfiguration["data"]["datasets"] = [];
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] ?? "#000";
    datasets.push({
      type: "bar",
      label: `${s.label} 95% interval`,
      data: s.ci.map((c) => (c ? [c.low, c.high] : null)) as unknown as number[],
      backgroundColor: color,
      barThickness: 3,
      grouped: false,
    });
    datasets.push({ type: "line", label: s.label, data: s.value, borderColor: color, backgroundColor: color, showLine: false, pointRadius: 7, pointStyle: "rectRot" });
  });
  (opts.points ?? []).forEach((p, i) => {
    const color = COLORS[(series.length + i) % COLORS.length] ?? "#000";
    datasets.push({ type: "line", label: p.label, data: p.data, borderColor: color, backgroundColor: color, showLine: false, pointRadius: 6, pointStyle: "circle" });
  });
  return {
    type: "bar",
    data: { labels, datasets },
    options: { scales: { y: { min: opts.yMin, max: opts.yMax, grid: { color: (c) => (c.tick.value === 0 ? "#52606d" : "#e4e7eb") } } }, interaction: { mode: "index", intersect: false } },
  };
}
