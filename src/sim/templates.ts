/**
 * Word-problem templates of the simulated task family. A template is text with placeholders, a
 * parameter generator, and a step-by-step solution in which every pitfall step has a right and a
 * wrong method. The same text is rendered by the generator and parsed back by the solver, so the
 * model can "read" its own problems; the ground truth is the solution with no step erring.
 */
import type { PitfallId } from "./pitfalls";
import type { Rng } from "./rng";

export type Params = Record<string, string | number>;

/** One computed step: its value and the arithmetic shown. */
export type Work = { value: number; work: string };

/** What a solution calls at each step; the solver decides (for pitfall steps) which method is used. */
export type StepFn = (label: string, pitfall: PitfallId | null, right: () => Work, wrong?: () => Work) => number;

export type Template = {
  id: string;
  pitfalls: readonly PitfallId[];
  /** Relative frequency in generated data sets. */
  weight: number;
  /** `{x}` is a number, `{w_x}` a capitalised word; a repeated placeholder must repeat its value. */
  text: string;
  gen(rng: Rng): Params;
  solve(p: Params, step: StepFn): number;
};

/** Numbers as the model writes them: integers plainly, others with up to 4 decimals. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const r = Math.round(x * 1e4) / 1e4;
  return Object.is(r, -0) ? "0" : String(r);
}

const n = (p: Params, key: string): number => Number(p[key]);
const NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Kira", "Luca"] as const;

/** Truncated remainder, the sign-keeping `%` a careless solver uses. */
const truncMod = (a: number, m: number): number => a % m;
const trueMod = (a: number, m: number): number => ((a % m) + m) % m;

function inclusiveCount(step: StepFn, a: number, b: number, what: string): number {
  return step(
    "range count",
    "inclusive_count",
    () => ({ value: b - a + 1, work: `${fmt(b)} − ${fmt(a)} + 1 = ${fmt(b - a + 1)} ${what}` }),
    () => ({ value: b - a, work: `${fmt(b)} − ${fmt(a)} = ${fmt(b - a)} ${what}` }),
  );
}

function posts(step: StepFn, length: number, spacing: number, what: string): number {
  const gaps = length / spacing;
  return step(
    "count posts",
    "fence_posts",
    () => ({
      value: gaps + 1,
      work: `${fmt(length)} ÷ ${fmt(spacing)} = ${fmt(gaps)} gaps, so ${fmt(gaps)} + 1 = ${fmt(gaps + 1)} ${what}`,
    }),
    () => ({ value: gaps, work: `${fmt(length)} ÷ ${fmt(spacing)} = ${fmt(gaps)} ${what}` }),
  );
}

function convert(step: StepFn, amount: number, factor: number, from: string, to: string): number {
  return step(
    "unit conversion",
    "unit_conversion",
    () => ({ value: amount * factor, work: `${fmt(amount)} ${from} = ${fmt(amount)} × ${factor} = ${fmt(amount * factor)} ${to}` }),
    () => ({ value: amount * 100, work: `${fmt(amount)} ${from} = ${fmt(amount)} × 100 = ${fmt(amount * 100)} ${to}` }),
  );
}

/** new value → original, for a change of `pct` percent (negative for a discount). */
function undoPercent(step: StepFn, value: number, pct: number): number {
  const mult = 1 + pct / 100;
  const sign = pct >= 0 ? "+" : "−";
  return step(
    "undo percentage",
    "percent_base",
    () => ({
      value: value / mult,
      work: `${fmt(value)} ÷ (1 ${sign} ${fmt(Math.abs(pct))}/100) = ${fmt(value)} ÷ ${fmt(mult)} = ${fmt(value / mult)}`,
    }),
    () => ({
      value: value * (1 - pct / 100),
      work: `${fmt(value)} ${pct >= 0 ? "−" : "+"} ${fmt(Math.abs(pct))}% of ${fmt(value)} = ${fmt(value * (1 - pct / 100))}`,
    }),
  );
}

function remainder(step: StepFn, a: number, m: number): number {
  return step(
    "remainder",
    "negative_remainder",
    () => ({ value: trueMod(a, m), work: `${fmt(a)} mod ${fmt(m)} = ${fmt(truncMod(a, m))} + ${fmt(m)} = ${fmt(trueMod(a, m))}` }),
    () => ({ value: truncMod(a, m), work: `${fmt(a)} mod ${fmt(m)} = ${fmt(truncMod(a, m))}` }),
  );
}

/** a + b × c (right) versus (a + b) × c (left to right). */
function addMul(step: StepFn, a: number, b: number, c: number, op: "+" | "-"): number {
  const s = op === "+" ? 1 : -1;
  const o = op === "+" ? "+" : "−";
  return step(
    "evaluate expression",
    "order_of_operations",
    () => ({
      value: a + s * b * c,
      work: `${fmt(b)} × ${fmt(c)} = ${fmt(b * c)}, then ${fmt(a)} ${o} ${fmt(b * c)} = ${fmt(a + s * b * c)}`,
    }),
    () => ({ value: (a + s * b) * c, work: `${fmt(a)} ${o} ${fmt(b)} = ${fmt(a + s * b)}, then × ${fmt(c)} = ${fmt((a + s * b) * c)}` }),
  );
}

function total(step: StepFn, x: number, y: number, what: string): number {
  return step("total", null, () => ({ value: x * y, work: `${fmt(x)} × ${fmt(y)} = ${fmt(x * y)} ${what}` }));
}

function plus(step: StepFn, x: number, y: number, what: string): number {
  return step("total", null, () => ({ value: x + y, work: `${fmt(x)} + ${fmt(y)} = ${fmt(x + y)} ${what}` }));
}

export const TEMPLATES: readonly Template[] = [
  // inclusive counting
  {
    id: "pages",
    pitfalls: ["inclusive_count"],
    weight: 1,
    text: "{w_name} reads a book from page {a} to page {b} inclusive. How many pages does {w_name} read?",
    gen: (r) => {
      const a = r.int(3, 120);
      return { w_name: r.pick(NAMES), a, b: a + r.int(8, 150) };
    },
    solve: (p, step) => inclusiveCount(step, n(p, "a"), n(p, "b"), "pages"),
  },
  {
    id: "integers",
    pitfalls: ["inclusive_count"],
    weight: 1,
    text: "How many integers are there from {a} to {b}, inclusive?",
    gen: (r) => {
      const a = r.int(-40, 300);
      return { a, b: a + r.int(5, 400) };
    },
    solve: (p, step) => inclusiveCount(step, n(p, "a"), n(p, "b"), "integers"),
  },
  {
    id: "festival",
    pitfalls: ["inclusive_count"],
    weight: 1,
    text: "A festival runs from day {a} to day {b} of the year, with both of those days included. On how many days is the festival open?",
    gen: (r) => {
      const a = r.int(1, 300);
      return { a, b: a + r.int(3, 60) };
    },
    solve: (p, step) => inclusiveCount(step, n(p, "a"), n(p, "b"), "days"),
  },
  // order of operations
  {
    id: "evaluate",
    pitfalls: ["order_of_operations"],
    weight: 1,
    text: "Evaluate {a} + {b} × {c}.",
    gen: (r) => ({ a: r.int(2, 60), b: r.int(2, 15), c: r.int(2, 12) }),
    solve: (p, step) => addMul(step, n(p, "a"), n(p, "b"), n(p, "c"), "+"),
  },
  {
    id: "evaluate-minus",
    pitfalls: ["order_of_operations"],
    weight: 1,
    text: "What is the value of {a} - {b} × {c} + {d}?",
    gen: (r) => ({ a: r.int(40, 200), b: r.int(2, 9), c: r.int(2, 9), d: r.int(1, 30) }),
    solve: (p, step) => {
      const v = addMul(step, n(p, "a"), n(p, "b"), n(p, "c"), "-");
      return plus(step, v, n(p, "d"), "");
    },
  },
  {
    id: "bill",
    pitfalls: ["order_of_operations"],
    weight: 1,
    text: "A delivery bill is written as {a} + {b} × {c} dollars: a fixed fee plus a price per box times the number of boxes. How many dollars is the bill?",
    gen: (r) => ({ a: r.int(5, 40), b: r.int(3, 25), c: r.int(2, 12) }),
    solve: (p, step) => addMul(step, n(p, "a"), n(p, "b"), n(p, "c"), "+"),
  },
  // percentage of the original
  {
    id: "jacket",
    pitfalls: ["percent_base"],
    weight: 1,
    text: "After a {pct}% price increase, a jacket costs {x} dollars. What was its price before the increase, in dollars?",
    gen: (r) => {
      const pct = r.pick([10, 20, 25, 40, 50]);
      const orig = 20 * r.int(2, 30);
      return { pct, x: (orig * (100 + pct)) / 100 };
    },
    solve: (p, step) => undoPercent(step, n(p, "x"), n(p, "pct")),
  },
  {
    id: "town",
    pitfalls: ["percent_base"],
    weight: 1,
    text: "The population of a town grew by {pct}% to {x} people. How many people lived there before the growth?",
    gen: (r) => {
      const pct = r.pick([5, 10, 20, 25, 50]);
      const orig = 100 * r.int(12, 400);
      return { pct, x: (orig * (100 + pct)) / 100 };
    },
    solve: (p, step) => undoPercent(step, n(p, "x"), n(p, "pct")),
  },
  {
    id: "lamp",
    pitfalls: ["percent_base"],
    weight: 1,
    text: "After a {pct}% discount, a lamp sells for {x} dollars. What was the original price in dollars?",
    gen: (r) => {
      const pct = r.pick([10, 20, 25, 40, 50]);
      const orig = 20 * r.int(2, 40);
      return { pct, x: (orig * (100 - pct)) / 100 };
    },
    solve: (p, step) => undoPercent(step, n(p, "x"), -n(p, "pct")),
  },
  // unit conversion
  {
    id: "film",
    pitfalls: ["unit_conversion"],
    weight: 1,
    text: "A film lasts {h} hours and {m} minutes. How many minutes long is the film?",
    gen: (r) => ({ h: r.int(1, 3), m: r.int(5, 55) }),
    solve: (p, step) => {
      const mins = convert(step, n(p, "h"), 60, "hours", "minutes");
      return plus(step, mins, n(p, "m"), "minutes");
    },
  },
  {
    id: "walk",
    pitfalls: ["unit_conversion"],
    weight: 1,
    text: "{w_name} walks {k} km and then another {m} m. How many metres does {w_name} walk in total?",
    gen: (r) => ({ w_name: r.pick(NAMES), k: r.int(4, 60) / 4, m: 10 * r.int(3, 90) }),
    solve: (p, step) => {
      const metres = convert(step, n(p, "k"), 1000, "km", "metres");
      return plus(step, metres, n(p, "m"), "metres");
    },
  },
  {
    id: "baking",
    pitfalls: ["unit_conversion"],
    weight: 1,
    text: "A loaf needs {h} hours in the oven. How many minutes is that?",
    gen: (r) => ({ h: r.int(3, 20) / 4 }),
    solve: (p, step) => convert(step, n(p, "h"), 60, "hours", "minutes"),
  },
  // negative remainders
  {
    id: "mod",
    pitfalls: ["negative_remainder"],
    weight: 1,
    text: "Compute {a} mod {m}, where the result of mod is the remainder on division.",
    gen: (r) => {
      const m = r.int(3, 13);
      let a = -r.int(m + 1, 200);
      if (a % m === 0) a -= 1;
      return { a, m };
    },
    solve: (p, step) => remainder(step, n(p, "a"), n(p, "m")),
  },
  {
    id: "weekday",
    pitfalls: ["negative_remainder"],
    weight: 1,
    text: "The days of the week are numbered 0 to 6, with Sunday as day 0. Today is day {d}. Which day number was it {k} days ago?",
    gen: (r) => {
      const d = r.int(0, 6);
      let k = r.int(d + 1, 90);
      if ((d - k) % 7 === 0) k += 1;
      return { d, k };
    },
    solve: (p, step) => {
      const diff = step("subtract", null, () => ({
        value: n(p, "d") - n(p, "k"),
        work: `${fmt(n(p, "d"))} − ${fmt(n(p, "k"))} = ${fmt(n(p, "d") - n(p, "k"))}`,
      }));
      return remainder(step, diff, 7);
    },
  },
  {
    id: "dial",
    pitfalls: ["negative_remainder"],
    weight: 1,
    text: "A pointer on a dial with positions 0 to {top} starts at position {d} and moves back {k} positions, wrapping around. At which position does it stop?",
    gen: (r) => {
      const top = r.int(7, 19);
      const d = r.int(0, top);
      let k = r.int(d + 1, 3 * (top + 1) + d);
      if ((d - k) % (top + 1) === 0) k += 1;
      return { top, d, k };
    },
    solve: (p, step) => {
      const diff = step("subtract", null, () => ({
        value: n(p, "d") - n(p, "k"),
        work: `${fmt(n(p, "d"))} − ${fmt(n(p, "k"))} = ${fmt(n(p, "d") - n(p, "k"))}`,
      }));
      return remainder(step, diff, n(p, "top") + 1);
    },
  },
  // fence posts
  {
    id: "fence",
    pitfalls: ["fence_posts"],
    weight: 1,
    text: "A straight fence is {len} m long, with a post every {s} m and a post at each end. How many posts are there?",
    gen: (r) => {
      const s = r.pick([2, 3, 4, 5, 6, 8, 10]);
      return { len: s * r.int(4, 40), s };
    },
    solve: (p, step) => posts(step, n(p, "len"), n(p, "s"), "posts"),
  },
  {
    id: "trees",
    pitfalls: ["fence_posts"],
    weight: 1,
    text: "Trees are planted along a {len} m road, one every {s} m, starting at one end of the road and finishing exactly at the other. How many trees are planted?",
    gen: (r) => {
      const s = r.pick([5, 10, 12, 15, 20, 25]);
      return { len: s * r.int(3, 50), s };
    },
    solve: (p, step) => posts(step, n(p, "len"), n(p, "s"), "trees"),
  },
  {
    id: "lamps",
    pitfalls: ["fence_posts"],
    weight: 1,
    text: "A {len}-metre corridor has lamps spaced {s} metres apart, with the first lamp at the start and the last lamp at the end. How many lamps are there?",
    gen: (r) => {
      const s = r.pick([2, 3, 4, 6, 7, 9]);
      return { len: s * r.int(3, 30), s };
    },
    solve: (p, step) => posts(step, n(p, "len"), n(p, "s"), "lamps"),
  },
  // two pitfalls
  {
    id: "fence-km",
    pitfalls: ["unit_conversion", "fence_posts"],
    weight: 2,
    text: "A straight fence is {k} km long, with a post every {s} m and a post at each end. How many posts are there?",
    gen: (r) => ({ k: r.pick([0.5, 1, 1.2, 1.5, 2, 2.4, 3]), s: r.pick([20, 25, 50, 100]) }),
    solve: (p, step) => {
      const metres = convert(step, n(p, "k"), 1000, "km", "metres");
      return posts(step, metres, n(p, "s"), "posts");
    },
  },
  {
    id: "seats",
    pitfalls: ["order_of_operations", "inclusive_count"],
    weight: 2,
    text: "Seats numbered {a} through {b} are all sold, and each ticket costs {f} + {q} × {c} dollars (a booking fee plus a price per hour times the hours of the show). How many dollars do these tickets bring in?",
    gen: (r) => {
      const a = r.int(1, 80);
      return { a, b: a + r.int(5, 60), f: r.int(1, 9), q: r.int(4, 15), c: r.int(2, 4) };
    },
    solve: (p, step) => {
      const price = addMul(step, n(p, "f"), n(p, "q"), n(p, "c"), "+");
      const count = inclusiveCount(step, n(p, "a"), n(p, "b"), "seats");
      return total(step, count, price, "dollars");
    },
  },
  {
    id: "session",
    pitfalls: ["unit_conversion", "percent_base"],
    weight: 2,
    text: "After a {pct}% increase, a training session lasts {h} hours. How many minutes did it last before the increase?",
    gen: (r) => ({ pct: r.pick([25, 50]), h: r.int(4, 16) / 4 }),
    solve: (p, step) => {
      const mins = convert(step, n(p, "h"), 60, "hours", "minutes");
      return undoPercent(step, mins, n(p, "pct"));
    },
  },
];

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const PLACEHOLDER = /\{(w_)?([a-z]+)\}/g;

/** Regex that finds a rendered template in any text, capturing its parameters by name. */
export function templateRegex(t: Template): RegExp {
  let out = "";
  let last = 0;
  const seen = new Set<string>();
  for (const m of t.text.matchAll(PLACEHOLDER)) {
    const key = `${m[1] ?? ""}${m[2] ?? ""}`;
    out += escapeRe(t.text.slice(last, m.index));
    if (seen.has(key)) out += `\\k<${key}>`;
    else out += `(?<${key}>${m[1] ? "[A-Z][a-z]+" : "-?\\d+(?:\\.\\d+)?"})`;
    seen.add(key);
    last = m.index + m[0].length;
  }
  out += escapeRe(t.text.slice(last));
  return new RegExp(out);
}

export function renderTemplate(t: Template, p: Params): string {
  return t.text.replace(PLACEHOLDER, (_all, w: string | undefined, name: string) => {
    const v = p[`${w ?? ""}${name}`];
    return typeof v === "number" ? fmt(v) : String(v);
  });
}

const REGEXES = new Map<string, RegExp>(TEMPLATES.map((t) => [t.id, templateRegex(t)]));

export type Found = { template: Template; params: Params; text: string };

/** Finds one of our problems in a text (the last one if several). */
export function findProblem(text: string): Found | null {
  let best: (Found & { index: number }) | null = null;
  for (const t of TEMPLATES) {
    const re = REGEXES.get(t.id);
    if (!re) continue;
    const g = new RegExp(re.source, "g");
    for (const m of text.matchAll(g)) {
      const params: Params = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) params[k] = k.startsWith("w_") ? v : Number(v);
      if (!best || m.index >= best.index) best = { template: t, params, text: m[0], index: m.index };
    }
  }
  return best ? { template: best.template, params: best.params, text: best.text } : null;
}
