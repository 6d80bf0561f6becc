// Numeric evaluation of expression trees at deterministic pseudo-random points.
import type { Node } from "./parse";

export type Mat = number[][];
export type Val = number | Mat;

export interface Env {
  /** Index of the sample point; symbols and unknown functions take values derived from it. */
  point: number;
  /** Percent sign: "scale" reads 50% as 0.5, "strip" as 50 (Math-Verify accepts either). */
  pct: "scale" | "strip";
  bound: Map<string, number>;
}

/** FNV-1a string hash → [0,1). Deterministic, so a verdict never depends on Math.random. */
export function hash01(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) % 1_000_003) / 1_000_003;
}

function symbolValue(name: string, env: Env): number {
  const b = env.bound.get(name);
  if (b !== undefined) return b;
  // Positive and away from 0/1 so roots, logs and fractional powers stay real and distinct.
  return 1.3 + 1.7 * hash01(`${name}#${env.point}`);
}

/** Stand-in for an unknown function / indexed symbol such as F_k: smooth, deterministic, name-specific. */
function pseudoFn(name: string, x: number, env: Env): number {
  const a = 0.5 + hash01(`${name}@a${env.point}`);
  const b = hash01(`${name}@b${env.point}`) * 3;
  return 1.5 + Math.sin(a * x + b);
}

function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 170) return NaN;
  let r = 1;
  for (let k = 2; k <= n; k++) r *= k;
  return r;
}

const isMat = (v: Val): v is Mat => Array.isArray(v);

function num(v: Val | null): number {
  if (v === null || isMat(v)) throw new EvaluationError();
  return v;
}

class EvaluationError extends Error {}

/** Evaluates a scalar or matrix expression; null when it cannot be evaluated (tuples, sets, relations...). */
export function evaluate(node: Node, env: Env): Val | null {
  try {
    return ev(node, env);
  } catch (e) {
    if (e instanceof EvaluationError || e instanceof RangeError) return null;
    throw e;
  }
}

function ev(n: Node, env: Env): Val {
  switch (n.k) {
    case "num":
      return n.v;
    case "const":
      return n.name === "pi" ? Math.PI : n.name === "e" ? Math.E : Infinity;
    case "sym": {
      if (!n.sub) return symbolValue(n.name, env);
      return pseudoFn(`${n.name}_`, num(ev(n.sub, env)), env);
    }
    case "neg":
      return matMap(ev(n.a, env), (x) => -x);
    case "pct": {
      const v = num(ev(n.a, env));
      return env.pct === "scale" ? v / 100 : v;
    }
    case "bin":
      return binary(n.op, ev(n.a, env), ev(n.b, env));
    case "fn":
      return func(n.name, n.args, env);
    case "big": {
      const lo = Math.round(num(ev(n.lo, env)));
      const hi = Math.round(num(ev(n.hi, env)));
      if (hi - lo > 2000) throw new EvaluationError();
      let acc = n.op === "sum" ? 0 : 1;
      const saved = env.bound.get(n.v);
      for (let k = lo; k <= hi; k++) {
        env.bound.set(n.v, k);
        const x = num(ev(n.body, env));
        acc = n.op === "sum" ? acc + x : acc * x;
      }
      if (saved === undefined) env.bound.delete(n.v);
      else env.bound.set(n.v, saved);
      return acc;
    }
    case "matrix":
      return n.rows.map((r) => r.map((c) => num(ev(c, env))));
    default:
      throw new EvaluationError();
  }
}

function matMap(v: Val, f: (x: number) => number): Val {
  return isMat(v) ? v.map((r) => r.map(f)) : f(v);
}

function binary(op: string, a: Val, b: Val): Val {
  if (isMat(a) || isMat(b)) return matBinary(op, a, b);
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return a / b;
    // A ratio with a zero term (12:00 as a time) has no numeric meaning here.
    case ":":
      if (b === 0) throw new EvaluationError();
      return a / b;
    case "^":
      return a ** b;
    default:
      throw new EvaluationError();
  }
}

function matBinary(op: string, a: Val, b: Val): Mat {
  if (op === "*" && isMat(a) && isMat(b)) {
    const inner = b.length;
    if ((a[0]?.length ?? -1) !== inner) throw new EvaluationError();
    return a.map((row) => (b[0] ?? []).map((_, j) => row.reduce((s, x, k) => s + x * ((b[k] ?? [])[j] ?? NaN), 0)));
  }
  if (op === "*" || op === "/") {
    if (isMat(a) && !isMat(b)) return a.map((r) => r.map((x) => (op === "*" ? x * b : x / b)));
    if (!isMat(a) && isMat(b) && op === "*") return b.map((r) => r.map((x) => a * x));
  }
  if ((op === "+" || op === "-") && isMat(a) && isMat(b)) {
    if (a.length !== b.length || a[0]?.length !== b[0]?.length) throw new EvaluationError();
    return a.map((r, i) =>
      r.map((x, j) => {
        const y = (b[i] ?? [])[j] ?? NaN;
        return op === "+" ? x + y : x - y;
      }),
    );
  }
  throw new EvaluationError();
}

function func(name: string, args: Node[], env: Env): Val {
  const xs = args.map((a) => num(ev(a, env)));
  const x = xs[0] ?? NaN;
  const y = xs[1] ?? NaN;
  switch (name) {
    case "sin":
      return Math.sin(x);
    case "cos":
      return Math.cos(x);
    case "tan":
      return Math.tan(x);
    case "sec":
      return 1 / Math.cos(x);
    case "csc":
      return 1 / Math.sin(x);
    case "cot":
      return 1 / Math.tan(x);
    case "arcsin":
      return Math.asin(x);
    case "arccos":
      return Math.acos(x);
    case "arctan":
      return Math.atan(x);
    case "sinh":
      return Math.sinh(x);
    case "cosh":
      return Math.cosh(x);
    case "tanh":
      return Math.tanh(x);
    case "ln":
      return Math.log(x);
    case "lg":
      return Math.log10(x);
    case "log":
      return args.length > 1 ? Math.log(x) / Math.log(y) : Math.log(x);
    case "exp":
      return Math.exp(x);
    case "sqrt":
      return Math.sqrt(x);
    case "root":
      return x < 0 && Number.isInteger(y) && y % 2 === 1 ? -((-x) ** (1 / y)) : x ** (1 / y);
    case "abs":
      return Math.abs(x);
    case "floor":
      return Math.floor(x);
    case "ceil":
      return Math.ceil(x);
    case "fact":
      return factorial(x);
    case "binom":
      return factorial(x) / (factorial(y) * factorial(x - y));
    case "base":
      return fromBase(args[0], y);
    case "sub":
      return pseudoFn(`sub:${x}`, y, env);
    case "prime":
      return pseudoFn("prime", x, env);
    default:
      throw new EvaluationError();
  }
}

/** `204_5` is a numeral in base 5; digits must be valid for the base. */
function fromBase(n: Node | undefined, base: number): number {
  if (n?.k !== "num" || !Number.isInteger(base) || base < 2 || base > 36) throw new EvaluationError();
  const digits = String(n.v);
  const v = parseInt(digits, base);
  if (!/^\d+$/.test(digits) || [...digits].some((d) => Number(d) >= base)) throw new EvaluationError();
  return v;
}
