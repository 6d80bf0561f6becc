// Tokens → expression tree. A small recursive-descent parser for the LaTeX found in final answers.
import { normalizeLatex, tokenize, type Token } from "./latex";

export type Node =
  | { k: "num"; v: number }
  | { k: "const"; name: "pi" | "e" | "inf" }
  | { k: "sym"; name: string; sub?: Node }
  | { k: "bin"; op: "+" | "-" | "*" | "/" | ":" | "^"; a: Node; b: Node }
  | { k: "neg"; a: Node }
  | { k: "pm"; a: Node | null; b: Node } // a ± b, or ±b when a is null
  | { k: "fn"; name: string; args: Node[] }
  | { k: "pct"; a: Node }
  | { k: "big"; op: "sum" | "prod"; v: string; lo: Node; hi: Node; body: Node }
  | { k: "tuple"; items: Node[] }
  | { k: "set"; items: Node[] }
  | { k: "list"; items: Node[] } // bare comma/semicolon separated answers
  | { k: "interval"; lo: Node; hi: Node; lc: boolean; hc: boolean }
  | { k: "union"; parts: Node[] }
  | { k: "rel"; ops: string[]; items: Node[] }
  | { k: "matrix"; rows: Node[][] };

const FUNCS = new Set([
  "sin",
  "cos",
  "tan",
  "sec",
  "csc",
  "cot",
  "arcsin",
  "arccos",
  "arctan",
  "sinh",
  "cosh",
  "tanh",
  "ln",
  "log",
  "exp",
  "lg",
]);
const REL_OPS = new Set(["=", "<", ">", "≤", "≥", "≠", "≈", "∈"]);
const IGNORED_CMDS = new Set([
  "overline",
  "overrightarrow",
  "vec",
  "hat",
  "widehat",
  "mathbb",
  "mathcal",
  "underline",
  "bar",
  "tilde",
  "mathit",
  "dot",
]);

class ParseError extends Error {}

/** Parses one answer string; returns null when it is not readable maths. */
export function parseAnswer(text: string): Node | null {
  const toks = tokenize(normalizeLatex(text));
  if (!toks || toks.length === 0) return null;
  try {
    const p = new Parser(toks);
    const node = p.top();
    if (!p.done()) return null;
    return node;
  } catch (e) {
    // RangeError: absurdly deep nesting overflowed the stack; not a real answer.
    if (e instanceof ParseError || e instanceof RangeError) return null;
    throw e;
  }
}

class Parser {
  private i = 0;
  private absDepth = 0;
  constructor(private readonly toks: Token[]) {}

  done(): boolean {
    return this.i >= this.toks.length;
  }
  private peek(o = 0): Token | undefined {
    return this.toks[this.i + o];
  }
  private isOp(v: string, o = 0): boolean {
    const t = this.peek(o);
    return t?.t === "op" && t.v === v;
  }
  private isCmd(v: string): boolean {
    const t = this.peek();
    return t?.t === "cmd" && t.v === v;
  }
  private expectOp(v: string): void {
    if (!this.isOp(v)) throw new ParseError(`expected ${v}`);
    this.i++;
  }

  /** Whole answer: `;` separates groups loosely, `,` tightly. Empty items (from "1, and 2") are dropped. */
  top(): Node {
    const groups: Node[] = [];
    do groups.push(this.commaList(["done", ";"]));
    while (this.isOp(";") && ++this.i);
    return groups.length === 1 ? (groups[0] as Node) : { k: "list", items: groups };
  }

  private commaList(stops: string[], commaSemis = false): Node {
    const items: Node[] = [];
    for (;;) {
      if (this.atStop(stops)) break;
      if (this.isOp(",") || (commaSemis && this.isOp(";"))) {
        this.i++;
        continue;
      }
      items.push(this.relation());
      if (!(this.isOp(",") || (commaSemis && this.isOp(";")))) break;
    }
    if (items.length === 0) throw new ParseError("empty");
    return items.length === 1 ? (items[0] as Node) : { k: "list", items };
  }

  private atStop(stops: string[]): boolean {
    if (this.done()) return true;
    return stops.some((s) => s !== "done" && this.isOp(s));
  }

  private relation(): Node {
    const items = [this.union()];
    const ops: string[] = [];
    for (;;) {
      const t = this.peek();
      if (t?.t !== "op" || !REL_OPS.has(t.v)) break;
      this.i++;
      ops.push(t.v);
      items.push(this.union());
    }
    return ops.length === 0 ? (items[0] as Node) : { k: "rel", ops, items };
  }

  private union(): Node {
    const parts = [this.additive()];
    while (this.isOp("∪")) {
      this.i++;
      parts.push(this.additive());
    }
    return parts.length === 1 ? (parts[0] as Node) : { k: "union", parts };
  }

  private additive(): Node {
    let left: Node;
    if (this.isOp("-")) {
      this.i++;
      left = { k: "neg", a: this.term() };
    } else if (this.isOp("+")) {
      this.i++;
      left = this.term();
    } else if (this.isCmd("pm") || this.isCmd("mp")) {
      this.i++;
      left = { k: "pm", a: null, b: this.term() };
    } else left = this.term();
    for (;;) {
      if (this.isOp("+") || this.isOp("-")) {
        const op = (this.peek() as { v: "+" | "-" }).v;
        this.i++;
        left = { k: "bin", op, a: left, b: this.term() };
      } else if (this.isCmd("pm") || this.isCmd("mp")) {
        this.i++;
        left = { k: "pm", a: left, b: this.term() };
      } else return left;
    }
  }

  private term(): Node {
    let left = this.unary();
    for (;;) {
      if (this.isOp("*") || this.isOp("/") || this.isOp(":")) {
        const op = (this.peek() as { v: "*" | "/" | ":" }).v;
        this.i++;
        left = { k: "bin", op, a: left, b: this.unary() };
      } else if (this.startsOperand()) {
        left = { k: "bin", op: "*", a: left, b: this.unary() };
      } else if (this.peek()?.t === "word") {
        // A word after a value is a unit ("5 \text{ cm}^2"): drop it and its power.
        this.i++;
        if (this.isOp("^")) {
          this.i++;
          this.script();
        }
      } else return left;
    }
  }

  private unary(): Node {
    if (this.isOp("-")) {
      this.i++;
      return { k: "neg", a: this.unary() };
    }
    return this.postfix();
  }

  private startsOperand(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.t === "num" || t.t === "id") return true;
    if (t.t === "cmd") return t.v !== "pm" && t.v !== "mp";
    // Inside |…| a bar closes the absolute value rather than opening a new one.
    if (t.t === "op") return ["(", "[", "{", "\\{", "∞", "BEGIN"].includes(t.v) || (t.v === "|" && this.absDepth === 0);
    return false;
  }

  private postfix(): Node {
    let base = this.atom();
    for (;;) {
      if (this.isOp("^")) {
        this.i++;
        base = { k: "bin", op: "^", a: base, b: this.script() };
      } else if (this.isOp("!")) {
        this.i++;
        base = { k: "fn", name: "fact", args: [base] };
      } else if (this.isOp("%")) {
        this.i++;
        base = { k: "pct", a: base };
      } else if (this.isOp("'")) {
        this.i++;
        base = { k: "fn", name: "prime", args: [base] };
      } else if (this.isOp("_")) {
        this.i++;
        const sub = this.script();
        if (base.k === "num") base = { k: "fn", name: "base", args: [base, sub] };
        else if (base.k === "sym" && !base.sub) base = { k: "sym", name: base.name, sub };
        else base = { k: "fn", name: "sub", args: [base, sub] };
      } else return base;
    }
  }

  /** Argument of ^ or _: a braced group, or a single token. */
  private script(): Node {
    if (this.isOp("{")) return this.group();
    if (this.isOp("-")) {
      this.i++;
      return { k: "neg", a: this.script() };
    }
    const t = this.peek();
    if (t?.t === "num" && /^\d+$/.test(t.raw) && t.raw.length > 1) {
      // `x^23` in LaTeX means x^2 · 3; keep the first digit only.
      this.toks.splice(
        this.i,
        1,
        { t: "num", v: Number(t.raw[0]), raw: t.raw[0] as string },
        { t: "num", v: Number(t.raw.slice(1)), raw: t.raw.slice(1) },
      );
    }
    return this.atom();
  }

  private group(): Node {
    this.expectOp("{");
    const inner = this.commaList(["}"], true);
    this.expectOp("}");
    return inner;
  }

  private atom(): Node {
    const t = this.peek();
    if (!t) throw new ParseError("unexpected end");
    this.i++;
    if (t.t === "num") return { k: "num", v: t.v };
    if (t.t === "id") return t.v === "e" ? { k: "const", name: "e" } : { k: "sym", name: t.v };
    if (t.t === "word") return { k: "sym", name: t.v };
    if (t.t === "cmd") return this.command(t.v);
    switch (t.v) {
      case "∞":
        return { k: "const", name: "inf" };
      case "{": {
        const n = this.commaList(["}"], true);
        this.expectOp("}");
        return n;
      }
      case "\\{": {
        if (this.isOp("\\}")) {
          this.i++;
          return { k: "set", items: [] };
        }
        const n = this.commaList(["\\}"], true);
        this.expectOp("\\}");
        return { k: "set", items: n.k === "list" ? n.items : [n] };
      }
      case "(":
      case "[":
        return this.bracket(t.v);
      case "|": {
        this.absDepth++;
        const n = this.additive();
        this.absDepth--;
        this.expectOp("|");
        return { k: "fn", name: "abs", args: [n] };
      }
      case "BEGIN":
        return this.matrix();
      default:
        throw new ParseError(`unexpected ${t.v}`);
    }
  }

  /** `(a)`, `(a,b)` tuple, `[a,b)` interval, `[M]` around an array. */
  private bracket(open: string): Node {
    const inner = this.commaList([")", "]"], true);
    const close = (this.peek() as { v?: string } | undefined)?.v;
    if (close !== ")" && close !== "]") throw new ParseError("unclosed bracket");
    this.i++;
    const items = inner.k === "list" ? inner.items : [inner];
    if (items.length === 1 && (open === "(" || inner.k === "matrix") && (close === ")" || inner.k === "matrix")) return inner;
    if (items.length === 2 && !(open === "(" && close === ")")) {
      return { k: "interval", lo: items[0] as Node, hi: items[1] as Node, lc: open === "[", hc: close === "]" };
    }
    if (open === "(" && close === ")") return { k: "tuple", items };
    if (items.length === 1) return inner; // [x] used as brackets
    return { k: "tuple", items };
  }

  private matrix(): Node {
    const rows: Node[][] = [];
    let row: Node[] = [];
    while (!this.isOp("END")) {
      if (this.done()) throw new ParseError("unclosed matrix");
      if (this.isOp("&")) {
        this.i++;
        continue;
      }
      if (this.isOp("\\\\")) {
        this.i++;
        if (row.length) rows.push(row);
        row = [];
        continue;
      }
      row.push(this.additive());
    }
    this.i++;
    if (row.length) rows.push(row);
    if (rows.length === 0) throw new ParseError("empty matrix");
    return { k: "matrix", rows };
  }

  private command(name: string): Node {
    if (name === "frac" || name === "binom") {
      const a = this.fracArg();
      const b = this.fracArg();
      return name === "frac" ? { k: "bin", op: "/", a, b } : { k: "fn", name: "binom", args: [a, b] };
    }
    if (name === "sqrt") {
      let index: Node | null = null;
      if (this.isOp("[")) {
        this.i++;
        index = this.additive();
        this.expectOp("]");
      }
      const arg = this.fracArg();
      return index ? { k: "fn", name: "root", args: [arg, index] } : { k: "fn", name: "sqrt", args: [arg] };
    }
    if (name === "pi") return { k: "const", name: "pi" };
    if (name === "sum" || name === "prod") return this.bigOp(name);
    if (name === "lfloor" || name === "lceil") {
      const n = this.additive();
      if (!this.isCmd(name === "lfloor" ? "rfloor" : "rceil")) throw new ParseError("unclosed floor");
      this.i++;
      return { k: "fn", name: name === "lfloor" ? "floor" : "ceil", args: [n] };
    }
    if (IGNORED_CMDS.has(name)) return this.isOp("{") ? this.group() : this.atom();
    if (FUNCS.has(name)) return this.func(name);
    if (name === "boxed" || name === "fbox") return this.group();
    // Greek letters and other unknown commands are read as symbols.
    return { k: "sym", name: `\\${name}` };
  }

  /** Argument of \frac / \sqrt: a group, or a single digit / letter (`\frac12`, `\sqrt3`). */
  private fracArg(): Node {
    if (this.isOp("{")) return this.group();
    const t = this.peek();
    if (t?.t === "num") {
      this.i++;
      if (t.raw.length > 1 && /^\d+$/.test(t.raw)) {
        this.toks.splice(this.i, 0, { t: "num", v: Number(t.raw.slice(1)), raw: t.raw.slice(1) });
        return { k: "num", v: Number(t.raw[0]) };
      }
      return { k: "num", v: t.v };
    }
    return this.atom();
  }

  private func(name: string): Node {
    let power: Node | null = null;
    let logBase: Node | null = null;
    for (;;) {
      if (this.isOp("^")) {
        this.i++;
        power = this.script();
      } else if (this.isOp("_")) {
        this.i++;
        logBase = this.script();
      } else break;
    }
    // `\sin x` applies to the next factor; `\sin(x)` to the bracket.
    const arg = this.isOp("(") ? this.atom() : this.postfix();
    let node: Node = { k: "fn", name, args: logBase ? [arg, logBase] : [arg] };
    if (power) node = { k: "bin", op: "^", a: node, b: power };
    return node;
  }

  private bigOp(op: "sum" | "prod"): Node {
    let lo: Node | null = null;
    let hi: Node | null = null;
    let v = "";
    for (let n = 0; n < 2; n++) {
      if (this.isOp("_")) {
        this.i++;
        const sub = this.script();
        if (sub.k !== "rel" || sub.ops[0] !== "=" || sub.items[0]?.k !== "sym") throw new ParseError("bad sum");
        v = sub.items[0].name;
        lo = sub.items[1] as Node;
      } else if (this.isOp("^")) {
        this.i++;
        hi = this.script();
      }
    }
    if (!lo || !hi) throw new ParseError("bad sum bounds");
    return { k: "big", op, v, lo, hi, body: this.term() };
  }
}
