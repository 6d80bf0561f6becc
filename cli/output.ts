/** Output helpers: aligned tables and key/value blocks for people, JSON for scripts (`--json`). */

export type Column<T> = [header: string, cell: (row: T) => unknown];

const text = (v: unknown): string => {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "yes" : "no";
  return JSON.stringify(v);
};

const oneLine = (s: string, max: number) => {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** An aligned plain-text table; cells are flattened to one line and capped at `maxWidth` characters. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[], maxWidth = 60): string {
  if (rows.length === 0) return "(none)";
  const cells = rows.map((r) => columns.map(([, cell]) => oneLine(text(cell(r)), maxWidth)));
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(columns.map(([h]) => h.toUpperCase())), ...cells.map(line)].join("\n");
}

/** "key: value" lines, aligned. */
export function fields(pairs: readonly [string, unknown][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${text(v)}`).join("\n");
}

/** Prints `data` as JSON with --json, else the human rendering. */
export function out(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(data, null, 2) : human()}\n`);
}

export const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toFixed(3));
