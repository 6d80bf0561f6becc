/** Formatting for display; times in the viewer's own time zone (the browser's locale settings). */

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export const num = (n: number | null | undefined): string => (n === null || n === undefined ? "—" : n.toLocaleString());

export const ratio = (n: number | null | undefined, digits = 3): string => (n === null || n === undefined ? "—" : n.toFixed(digits));

export const signed = (n: number, digits = 3): string => `${n > 0 ? "+" : n < 0 ? "−" : "±"}${Math.abs(n).toFixed(digits)}`;

export const interval = (ci: { low: number; high: number } | null | undefined, digits = 3): string =>
  ci ? `[${ci.low.toFixed(digits)}, ${ci.high.toFixed(digits)}]` : "—";

export const ms = (n: number | null | undefined): string => (n === null || n === undefined ? "—" : `${Math.round(n).toLocaleString()} ms`);

export const usd = (n: number): string => `$${n.toFixed(n < 1 ? 4 : 2)}`;

/** Version 0 is the empty library ("none"). */
export const versionLabel = (v: number | null | undefined): string => (v === null || v === undefined || v === 0 ? "none" : `v${v}`);
