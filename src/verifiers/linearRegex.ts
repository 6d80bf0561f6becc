/**
 * A regular-expression matcher whose time is linear in the input (docs/security.md, "The regex
 * verifier"): the pattern is compiled to a program for a Pike VM, which advances every possible match
 * position in lockstep, so no pattern can backtrack catastrophically. A step budget bounds the work
 * whatever the pattern and input sizes. It accepts JavaScript syntax without the features that need
 * backtracking (backreferences, lookaround): literals and escapes, `.`, classes, groups (capturing,
 * non-capturing, named), alternation, greedy and lazy quantifiers, `^ $ \b \B`, and the flags i, m, s, u.
 * Only the whole match is reported (the verifier needs no groups); it is the match JavaScript's own
 * engine would report (leftmost, with the same preferences).
 */

export const MAX_PATTERN_LENGTH = 1000;
/** Program size bound: counted repetitions (`a{500}`) are expanded. */
const MAX_PROGRAM = 10_000;
/** Thread steps a single match may take (a few tens of milliseconds at most). */
export const DEFAULT_STEP_BUDGET = 5_000_000;

export class RegexSyntaxError extends Error {}
export class RegexBudgetError extends Error {}

type CharTest = (c: number) => boolean;
type AssertKind = "bol" | "eol" | "word" | "notWord";
type Node =
  | { t: "char"; test: CharTest }
  | { t: "seq"; items: Node[] }
  | { t: "alt"; options: Node[] }
  | { t: "repeat"; node: Node; min: number; max: number; greedy: boolean }
  | { t: "assert"; kind: AssertKind };

type Instruction =
  | { op: "char"; test: CharTest }
  | { op: "split"; x: number; y: number }
  | { op: "jmp"; x: number }
  | { op: "assert"; kind: AssertKind }
  | { op: "match" };

export type LinearRegex = { program: Instruction[]; multiline: boolean };

const code = (s: string) => s.charCodeAt(0);
const isDigit: CharTest = (c) => c >= 48 && c <= 57;
const isWordChar: CharTest = (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const SPACES = new Set([9, 10, 11, 12, 13, 32, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff]);
const isSpace: CharTest = (c) => SPACES.has(c) || (c >= 0x2000 && c <= 0x200a);
const not =
  (t: CharTest): CharTest =>
  (c) =>
    !t(c);

function fold(test: CharTest): CharTest {
  return (c) => {
    if (test(c)) return true;
    const s = String.fromCharCode(c);
    const lower = s.toLowerCase();
    const upper = s.toUpperCase();
    return (lower.length === 1 && test(code(lower))) || (upper.length === 1 && test(code(upper)));
  };
}

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly flags: { ignoreCase: boolean; dotAll: boolean; unicode: boolean },
  ) {}

  parse(): Node {
    const node = this.alternation();
    if (this.i < this.src.length) throw new RegexSyntaxError(`unmatched ')' at ${this.i}`);
    return node;
  }

  private peek(offset = 0): string {
    return this.src.charAt(this.i + offset);
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.peek() === "|") {
      this.i++;
      options.push(this.sequence());
    }
    return options.length === 1 ? (options[0] as Node) : { t: "alt", options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.peek() !== "|" && this.peek() !== ")") items.push(this.quantified());
    return { t: "seq", items };
  }

  private quantified(): Node {
    const atom = this.atom();
    const q = this.quantifier();
    if (!q) return atom;
    if (atom.t === "assert") throw new RegexSyntaxError(`nothing to repeat at ${this.i}`);
    let greedy = true;
    if (this.peek() === "?") {
      this.i++;
      greedy = false;
    }
    if (this.quantifierAhead()) throw new RegexSyntaxError(`nothing to repeat at ${this.i}`);
    return { t: "repeat", node: atom, min: q.min, max: q.max, greedy };
  }

  private quantifierAhead(): boolean {
    const c = this.peek();
    return c === "*" || c === "+" || c === "?" || (c === "{" && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.i)));
  }

  private quantifier(): { min: number; max: number } | null {
    const c = this.peek();
    if (c === "*" || c === "+" || c === "?") {
      this.i++;
      return c === "*" ? { min: 0, max: Infinity } : c === "+" ? { min: 1, max: Infinity } : { min: 0, max: 1 };
    }
    const m = c === "{" ? /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i)) : null;
    if (!m) return null;
    this.i += m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
    if (max < min) throw new RegexSyntaxError("numbers out of order in {} quantifier");
    if (min > MAX_PROGRAM || (max !== Infinity && max > MAX_PROGRAM)) throw new RegexSyntaxError("repetition count too large");
    return { min, max };
  }

  private atom(): Node {
    const c = this.src.charAt(this.i++);
    switch (c) {
      case "(":
        return this.group();
      case "[":
        return this.charClass();
      case ".":
        return this.char(this.flags.dotAll ? () => true : (x) => x !== 10 && x !== 13 && x !== 0x2028 && x !== 0x2029);
      case "^":
        return { t: "assert", kind: "bol" };
      case "$":
        return { t: "assert", kind: "eol" };
      case "\\":
        return this.escape();
      case "*":
      case "+":
      case "?":
        throw new RegexSyntaxError(`nothing to repeat at ${this.i - 1}`);
      case ")":
        throw new RegexSyntaxError(`unmatched ')' at ${this.i - 1}`);
      default:
        return this.literal(code(c));
    }
  }

  private char(test: CharTest): Node {
    return { t: "char", test: this.flags.ignoreCase ? fold(test) : test };
  }

  private literal(value: number): Node {
    return this.char((x) => x === value);
  }

  private group(): Node {
    if (this.peek() === "?") {
      const next = this.peek(1);
      if (next === ":") this.i += 2;
      else if (next === "<" && this.peek(2) !== "=" && this.peek(2) !== "!") {
        const end = this.src.indexOf(">", this.i);
        if (end === -1) throw new RegexSyntaxError("unterminated group name");
        this.i = end + 1;
      } else throw new RegexSyntaxError("lookahead and lookbehind are not supported by the linear-time matcher");
    }
    const inner = this.alternation();
    if (this.peek() !== ")") throw new RegexSyntaxError("unterminated group");
    this.i++;
    return inner;
  }

  /** An escape outside a class: a class shorthand, an assertion, or one character. */
  private escape(): Node {
    const c = this.peek();
    if (c === "b" || c === "B") {
      this.i++;
      return { t: "assert", kind: c === "b" ? "word" : "notWord" };
    }
    if (/[1-9]/.test(c) || c === "k") throw new RegexSyntaxError("backreferences are not supported by the linear-time matcher");
    return this.char(this.classEscape());
  }

  /** The character set an escape stands for (the backslash already read). */
  private classEscape(): CharTest {
    const c = this.src.charAt(this.i++);
    switch (c) {
      case "":
        throw new RegexSyntaxError("\\ at end of pattern");
      case "d":
        return isDigit;
      case "D":
        return not(isDigit);
      case "w":
        return isWordChar;
      case "W":
        return not(isWordChar);
      case "s":
        return isSpace;
      case "S":
        return not(isSpace);
      case "p":
      case "P":
        throw new RegexSyntaxError("unicode property escapes are not supported by the linear-time matcher");
      default: {
        const value = this.escapedChar(c);
        return (x) => x === value;
      }
    }
  }

  private escapedChar(c: string): number {
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11, "0": 0 };
    if (c in simple) return simple[c] as number;
    if (c === "x" || c === "u") {
      const m =
        c === "x"
          ? /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.i))
          : (this.flags.unicode ? /^([0-9a-fA-F]{4}|\{[0-9a-fA-F]{1,6}\})/ : /^[0-9a-fA-F]{4}/).exec(this.src.slice(this.i));
      if (m) {
        this.i += m[0].length;
        const value = Number.parseInt(m[0].replace(/[{}]/g, ""), 16);
        if (value > 0xffff) throw new RegexSyntaxError("code points above U+FFFF are not supported by the linear-time matcher");
        return value;
      }
    }
    if (c === "c" && /^[A-Za-z]/.test(this.peek())) return code(this.src.charAt(this.i++)) % 32;
    return code(c);
  }

  private charClass(): Node {
    const negate = this.peek() === "^";
    if (negate) this.i++;
    const tests: CharTest[] = [];
    for (;;) {
      if (this.i >= this.src.length) throw new RegexSyntaxError("unterminated character class");
      const c = this.src.charAt(this.i++);
      if (c === "]") break;
      const low = this.classAtom(c);
      if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== "" && typeof low === "number") {
        this.i++;
        const high = this.classAtom(this.src.charAt(this.i++));
        if (typeof high !== "number") throw new RegexSyntaxError("invalid character class range");
        if (high < low) throw new RegexSyntaxError("range out of order in character class");
        tests.push((x) => x >= low && x <= high);
      } else tests.push(typeof low === "number" ? (x) => x === low : low);
    }
    const any: CharTest = (x) => tests.some((t) => t(x));
    return this.char(negate ? not(any) : any);
  }

  /** One class member: a character (a number) or a set (a shorthand such as \d). */
  private classAtom(c: string): number | CharTest {
    if (c !== "\\") return code(c);
    const e = this.peek();
    if (e === "b") {
      this.i++;
      return 8;
    }
    if ("dDwWsSpP".includes(e)) return this.classEscape();
    this.i++;
    return this.escapedChar(e);
  }
}

function compile(node: Node, program: Instruction[]): void {
  if (program.length > MAX_PROGRAM) throw new RegexSyntaxError("pattern too large for the linear-time matcher");
  switch (node.t) {
    case "char":
      program.push({ op: "char", test: node.test });
      return;
    case "assert":
      program.push({ op: "assert", kind: node.kind });
      return;
    case "seq":
      for (const item of node.items) compile(item, program);
      return;
    case "alt": {
      const jumps: { op: "jmp"; x: number }[] = [];
      node.options.forEach((option, k) => {
        if (k < node.options.length - 1) {
          const split: { op: "split"; x: number; y: number } = { op: "split", x: program.length + 1, y: -1 };
          program.push(split);
          compile(option, program);
          const jump = { op: "jmp" as const, x: -1 };
          program.push(jump);
          jumps.push(jump);
          split.y = program.length;
        } else compile(option, program);
      });
      for (const j of jumps) j.x = program.length;
      return;
    }
    case "repeat": {
      for (let k = 0; k < node.min; k++) compile(node.node, program);
      if (node.max === Infinity) {
        const split: { op: "split"; x: number; y: number } = { op: "split", x: -1, y: -1 };
        const top = program.length;
        program.push(split);
        compile(node.node, program);
        program.push({ op: "jmp", x: top });
        const [body, out] = [top + 1, program.length];
        Object.assign(split, node.greedy ? { x: body, y: out } : { x: out, y: body });
        return;
      }
      const splits: { op: "split"; x: number; y: number }[] = [];
      for (let k = node.min; k < node.max; k++) {
        const split = { op: "split" as const, x: -1, y: -1 };
        splits.push(split);
        const at = program.length;
        program.push(split);
        compile(node.node, program);
        (split as { x: number }).x = at + 1;
      }
      for (const split of splits) {
        if (node.greedy) split.y = program.length;
        else [split.x, split.y] = [program.length, split.x];
      }
      return;
    }
  }
}

/** Compiles a pattern; throws RegexSyntaxError for invalid or unsupported syntax. */
export function compileLinear(source: string, flags = ""): LinearRegex {
  if (source.length > MAX_PATTERN_LENGTH) throw new RegexSyntaxError(`pattern longer than ${MAX_PATTERN_LENGTH} characters`);
  const bad = flags.replace(/[imsu]/g, "");
  if (bad) throw new RegexSyntaxError(`unsupported flags '${bad}'`);
  const node = new Parser(source, { ignoreCase: flags.includes("i"), dotAll: flags.includes("s"), unicode: flags.includes("u") }).parse();
  const program: Instruction[] = [];
  compile(node, program);
  program.push({ op: "match" });
  return { program, multiline: flags.includes("m") };
}

type Thread = { pc: number; start: number };

/**
 * The leftmost match of `re` in `input` as [start, end), preferring what JavaScript prefers; null when
 * there is none. Throws RegexBudgetError past `budget` thread steps.
 */
export function execLinear(re: LinearRegex, input: string, budget = DEFAULT_STEP_BUDGET): { index: number; text: string } | null {
  const { program, multiline } = re;
  const n = input.length;
  const seen = new Int32Array(program.length).fill(-1);
  let generation = 0;
  let steps = 0;
  const word = (pos: number) => pos >= 0 && pos < n && isWordChar(input.charCodeAt(pos));
  const holds = (kind: AssertKind, pos: number): boolean => {
    switch (kind) {
      case "bol":
        return pos === 0 || (multiline && input.charCodeAt(pos - 1) === 10);
      case "eol":
        return pos === n || (multiline && input.charCodeAt(pos) === 10);
      case "word":
        return word(pos - 1) !== word(pos);
      case "notWord":
        return word(pos - 1) === word(pos);
    }
  };
  // Follows jumps, splits (first branch first) and assertions, so threads are listed in priority order.
  const add = (list: Thread[], pc0: number, start: number, pos: number) => {
    const stack = [pc0];
    while (stack.length > 0) {
      const pc = stack.pop() as number;
      if (seen[pc] === generation) continue;
      seen[pc] = generation;
      if (++steps > budget) throw new RegexBudgetError(`match exceeded ${budget} steps`);
      const ins = program[pc] as Instruction;
      if (ins.op === "jmp") stack.push(ins.x);
      else if (ins.op === "split") stack.push(ins.y, ins.x);
      else if (ins.op === "assert") {
        if (holds(ins.kind, pos)) stack.push(pc + 1);
      } else list.push({ pc, start });
    }
  };

  let matched: { start: number; end: number } | null = null;
  let current: Thread[] = [];
  add(current, 0, 0, 0);
  for (let pos = 0; ; pos++) {
    const next: Thread[] = [];
    generation++;
    const c = pos < n ? input.charCodeAt(pos) : -1;
    for (const thread of current) {
      const ins = program[thread.pc] as Instruction;
      if (ins.op === "match") {
        matched = { start: thread.start, end: pos };
        // Threads after this one have lower priority: JavaScript would never reach them.
        break;
      }
      if (ins.op === "char" && c !== -1 && ins.test(c)) add(next, thread.pc + 1, thread.start, pos + 1);
    }
    if (pos >= n) break;
    if (matched === null) add(next, 0, pos + 1, pos + 1);
    else if (next.length === 0) break;
    current = next;
  }
  return matched && { index: matched.start, text: input.slice(matched.start, matched.end) };
}
