// Equivalence of two parsed answers: structure (tuples, sets, intervals, relations) plus numeric checks.
import { evaluate, type Env, type Val } from "./evaluate";
import type { Node } from "./parse";

const POINTS = 3;
const FLIP: Record<string, string> = { "<": ">", ">": "<", "≤": "≥", "≥": "≤", "≠": "≠" };

/** Math-Verify compares rounded to 6 decimals; we also accept a tight relative match for big or tiny numbers. */
export function close(a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b && !Number.isNaN(a);
  if (a === b) return true;
  const scale = Math.max(1, Math.abs(a), Math.abs(b));
  if (Math.abs(a - b) <= 1e-9 * scale) return true;
  return Math.abs(a - b) < 1e-6 && Math.round(a * 1e6) === Math.round(b * 1e6);
}

function closeVal(a: Val, b: Val): boolean {
  if (typeof a === "number" || typeof b === "number") {
    return typeof a === "number" && typeof b === "number" && close(a, b);
  }
  return a.length === b.length && a.every((r, i) => r.length === b[i]?.length && r.every((x, j) => close(x, b[i]?.[j] ?? NaN)));
}

/** Checks f(point) relation over sample points; points where either side is undefined are skipped. */
function overPoints(g: Node, p: Node, test: (a: Val, b: Val) => boolean): boolean | null {
  let seen = 0;
  for (const pct of ["scale", "strip"] as const) {
    let ok = true;
    seen = 0;
    for (let point = 0; point < POINTS; point++) {
      const env: Env = { point, pct, bound: new Map() };
      const a = evaluate(g, env);
      const b = evaluate(p, env);
      if (a === null || b === null) return null;
      if (typeof a === "number" && typeof b === "number" && (Number.isNaN(a) || Number.isNaN(b))) continue;
      seen++;
      if (!test(a, b)) {
        ok = false;
        break;
      }
    }
    if (ok && seen > 0) return true;
    if (!hasPct(g) && !hasPct(p)) break;
  }
  return seen === 0 ? null : false;
}

function hasPct(n: Node): boolean {
  return JSON.stringify(n).includes('"k":"pct"');
}

const isEqChain = (n: Node): n is Extract<Node, { k: "rel" }> => n.k === "rel" && n.ops.every((o) => o === "=" || o === "≈");

/** Index of the answer value in `x = 5+5+1 = 11 ≈ 11.0`: the last exact member, else the last one. */
function valueIndex(n: Extract<Node, { k: "rel" }>): number {
  const j = n.ops.indexOf("≈");
  return j >= 1 ? j : n.items.length - 1;
}

function chainValue(n: Extract<Node, { k: "rel" }>): Node {
  return n.items[valueIndex(n)] as Node;
}

/** `k = 5`, `f(x) = 5`, `(p,q) = (3,2)` name a value; `a + 3z = 0` or `7 = 11a + c` do not. */
function isAssignment(n: Node): boolean {
  if (!isEqChain(n)) return false;
  const lhs = n.items[valueIndex(n) - 1];
  if (!lhs) return false;
  if (lhs.k === "num" || lhs.k === "const" || lhs.k === "neg") return false;
  if (lhs.k === "bin" && (lhs.op === "+" || lhs.op === "-")) return false;
  return JSON.stringify(lhs).includes('"k":"sym"');
}

/** Normalises shapes that mean the same answer: `x ∈ S` → S, `a=1, b=2` → 1, 2, `a ± b` → {a+b, a-b}. */
export function canonical(n: Node): Node {
  if (n.k === "rel" && n.ops.length === 1 && n.ops[0] === "∈") return canonical(n.items[1] as Node);
  if (n.k === "list") {
    // `x = 1, x = 2 ± √3` lists every value: assignments give their value, ± gives both.
    const items = n.items.flatMap((it) => {
      const c = canonical(isAssignment(it) ? chainValue(it as Extract<Node, { k: "rel" }>) : it);
      return containsPm(it) && c.k === "set" ? c.items : [c];
    });
    return { k: "list", items };
  }
  if (n.k === "set") return { k: "set", items: n.items.flatMap((it) => expandSet(canonical(it))) };
  if (n.k === "tuple") return { k: "tuple", items: n.items.map(canonical) };
  if (containsPm(n) && n.k !== "rel") {
    const variants = expandPm(n);
    return variants.length > 1 ? { k: "set", items: variants } : n;
  }
  return n;
}

function expandSet(n: Node): Node[] {
  return n.k === "set" ? n.items : [n];
}

function containsPm(n: Node): boolean {
  return JSON.stringify(n).includes('"k":"pm"');
}

/** All sign choices for ± inside an expression (at most a few in a real answer). */
function expandPm(n: Node): Node[] {
  const s = JSON.stringify(n);
  const count = (s.match(/"k":"pm"/g) ?? []).length;
  if (count === 0 || count > 4) return [n];
  const out: Node[] = [];
  for (let mask = 0; mask < 1 << count; mask++) {
    let idx = 0;
    const rewrite = (x: Node): Node => {
      if (x.k === "pm") {
        const minus = ((mask >> idx++) & 1) === 1;
        const b = rewrite(x.b);
        const signed: Node = minus ? { k: "neg", a: b } : b;
        return x.a ? { k: "bin", op: minus ? "-" : "+", a: rewrite(x.a), b } : signed;
      }
      return mapChildren(x, rewrite);
    };
    out.push(rewrite(n));
  }
  return out;
}

function mapChildren(n: Node, f: (x: Node) => Node): Node {
  switch (n.k) {
    case "bin":
      return { ...n, a: f(n.a), b: f(n.b) };
    case "neg":
    case "pct":
      return { ...n, a: f(n.a) };
    case "fn":
      return { ...n, args: n.args.map(f) };
    case "big":
      return { ...n, lo: f(n.lo), hi: f(n.hi), body: f(n.body) };
    case "sym":
      return n.sub ? { ...n, sub: f(n.sub) } : n;
    default:
      return n;
  }
}

/** `a < x < b` (and `1 ≤ |z| ≤ 2`) as the interval(s) it describes, or null. */
function chainToIntervals(n: Extract<Node, { k: "rel" }>): Node | null {
  if (n.items.length !== 3) return null;
  const [o1, o2] = n.ops;
  const up = (o: string | undefined) => o === "<" || o === "≤";
  const down = (o: string | undefined) => o === ">" || o === "≥";
  let lo = n.items[0] as Node,
    hi = n.items[2] as Node,
    lc = o1 === "≤" || o1 === "≥",
    hc = o2 === "≤" || o2 === "≥";
  if (down(o1) && down(o2)) [lo, hi, lc, hc] = [hi, lo, hc, lc];
  else if (!(up(o1) && up(o2))) return null;
  const mid = n.items[1] as Node;
  const iv: Node = { k: "interval", lo, hi, lc, hc };
  if (mid.k === "fn" && mid.name === "abs") {
    const mirrored: Node = { k: "interval", lo: { k: "neg", a: hi }, hi: { k: "neg", a: lo }, lc: hc, hc: lc };
    return { k: "union", parts: [mirrored, iv] };
  }
  return iv;
}

export function nodesEqual(gold: Node, pred: Node): boolean {
  const g = canonical(gold);
  const p = canonical(pred);
  return eq(g, p);
}

function eq(g: Node, p: Node): boolean {
  if (g.k === "rel" || p.k === "rel") return relEq(g, p);
  const gColl = isCollection(g),
    pColl = isCollection(p);
  if (gColl || pColl) return collectionEq(g, p);
  return overPoints(g, p, closeVal) === true;
}

const isCollection = (n: Node) => ["tuple", "set", "list", "interval", "union"].includes(n.k);

function relEq(g: Node, p: Node): boolean {
  if (g.k === "rel" && p.k === "rel") {
    if (isEqChain(g) && isEqChain(p)) return equationsEq(g, p);
    if (isEqChain(g) || isEqChain(p)) return false;
    return inequalitiesEq(g, p);
  }
  if (g.k === "rel") {
    if (isEqChain(g)) return isAssignment(g) && eq(canonical(chainValue(g)), p);
    // A relation in the gold may be answered by the set it describes (upstream: not the other way round).
    const iv = ["interval", "union", "tuple"].includes(p.k) ? chainToIntervals(g) : null;
    return iv !== null && eq(iv, p);
  }
  if (p.k === "rel" && isEqChain(p)) return eq(g, canonical(chainValue(p)));
  return false;
}

/** Equations are equal when lhs − rhs agree up to a non-zero factor; non-numeric sides compare structurally. */
function equationsEq(g: Extract<Node, { k: "rel" }>, p: Extract<Node, { k: "rel" }>): boolean {
  const gl = g.items[0] as Node,
    gr = chainValue(g),
    pl = p.items[0] as Node,
    pr = chainValue(p);
  if ([gl, gr, pl, pr].some((x) => isCollection(x) || x.k === "rel")) return eq(gl, pl) && eq(canonical(gr), canonical(pr));
  return proportional(diff(gl, gr), diff(pl, pr), () => true) || (exprEq(gl, pl) && exprEq(gr, pr));
}

function exprEq(a: Node, b: Node): boolean {
  return overPoints(a, b, closeVal) === true;
}

const diff = (a: Node, b: Node): Node => ({ k: "bin", op: "-", a, b });

/** True when p = c·g at every sample point for one constant c accepted by `signOk`. */
function proportional(g: Node, p: Node, signOk: (c: number) => boolean): boolean {
  let ratio: number | null = null;
  let bothZero = true;
  const res = overPoints(g, p, (a, b) => {
    if (typeof a !== "number" || typeof b !== "number") return false;
    if (close(a, 0) || close(b, 0)) return close(a, 0) && close(b, 0);
    bothZero = false;
    const r = b / a;
    if (ratio === null) {
      ratio = r;
      return signOk(r);
    }
    return close(r, ratio);
  });
  return res === true && (bothZero || ratio !== null);
}

function inequalitiesEq(g: Extract<Node, { k: "rel" }>, p: Extract<Node, { k: "rel" }>): boolean {
  if (g.items.length === 2 && p.items.length === 2) {
    const go = g.ops[0] as string,
      po = p.ops[0] as string;
    if (go === "∈" || po === "∈") return false;
    const dg = diff(g.items[0] as Node, g.items[1] as Node),
      dp = diff(p.items[0] as Node, p.items[1] as Node);
    if (go === "≠" && po === "≠") return proportional(dg, dp, () => true);
    if (go === po) return proportional(dg, dp, (c) => c > 0);
    if (FLIP[go] === po) return proportional(dg, dp, (c) => c < 0);
    return false;
  }
  if (g.items.length !== p.items.length) return false;
  const same = g.ops.every((o, i) => o === p.ops[i]) && g.items.every((x, i) => eq(x, p.items[i] as Node));
  if (same) return true;
  const n = p.items.length;
  return g.ops.every((o, i) => FLIP[o] === p.ops[n - 2 - i]) && g.items.every((x, i) => eq(x, p.items[n - 1 - i] as Node));
}

function items(n: Node): Node[] {
  return n.k === "tuple" || n.k === "set" || n.k === "list" ? n.items : [n];
}

function collectionEq(g: Node, p: Node): boolean {
  // A one-element set or list is its element.
  if ((g.k === "set" || g.k === "list") && g.items.length === 1) return eq(g.items[0] as Node, p);
  if ((p.k === "set" || p.k === "list") && p.items.length === 1) return eq(g, p.items[0] as Node);
  if (g.k === "interval" || p.k === "interval") return intervalEq(g, p);
  if (g.k === "union" || p.k === "union") {
    if (g.k !== "union" || p.k !== "union" || g.parts.length !== p.parts.length) return false;
    return sameMembers(g.parts, p.parts);
  }
  if (!isCollection(g) || !isCollection(p)) return false;
  const gi = items(g),
    pi = items(p);
  // Tuples are ordered; a bare list matches a tuple in order and a set (or another list) as a set.
  if (g.k === "tuple" || p.k === "tuple") {
    if (g.k === "set") return gi.length === pi.length && sortedPairwise(gi, pi);
    if (p.k === "set") return gi.length === pi.length && sortedPairwise(pi, gi);
    return gi.length === pi.length && gi.every((x, i) => eq(x, pi[i] as Node));
  }
  return sameMembers(gi, pi);
}

/** Set equality: every member has an equal member on the other side (duplicates collapse). */
function sameMembers(a: Node[], b: Node[]): boolean {
  return a.every((x) => b.some((y) => eq(x, y))) && b.every((y) => a.some((x) => eq(x, y)));
}

/** A set compared with a tuple: the tuple must list the set's members in ascending order. */
function sortedPairwise(setItems: Node[], tupleItems: Node[]): boolean {
  const key = (n: Node) => {
    const v = evaluate(n, { point: 0, pct: "scale", bound: new Map() });
    return typeof v === "number" ? v : NaN;
  };
  const sorted = [...setItems].sort((x, y) => key(x) - key(y));
  return sorted.every((x, i) => eq(x, tupleItems[i] as Node));
}

function intervalEq(g: Node, p: Node): boolean {
  const asIv = (n: Node): Extract<Node, { k: "interval" }> | null => {
    if (n.k === "interval") return n;
    // `(a, b)` is both a pair and an open interval.
    if (n.k === "tuple" && n.items.length === 2)
      return { k: "interval", lo: n.items[0] as Node, hi: n.items[1] as Node, lc: false, hc: false };
    return null;
  };
  const a = asIv(g),
    b = asIv(p);
  if (!a || !b) return false;
  return a.lc === b.lc && a.hc === b.hc && eq(a.lo, b.lo) && eq(a.hi, b.hi);
}
