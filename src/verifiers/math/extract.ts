// Finding the answer inside a response: \boxed{}, "final answer is $…$", maths environments, plain numbers.
import { readGroup } from "./latex";

interface Span {
  start: number;
  end: number;
  content: string;
}

/** Every \boxed{…} / \fbox{…} with balanced braces, left to right. */
export function findBoxed(text: string): Span[] {
  const out: Span[] = [];
  const re = /\\+(boxed|fbox)\s*/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const open = m.index + m[0].length;
    const g = readGroup(text, open);
    if (g) {
      out.push({ start: m.index, end: g.end, content: g.content });
      re.lastIndex = g.end;
      continue;
    }
    // `\boxed 5` without braces.
    const bare = /^[^\s$]+/.exec(text.slice(open));
    if (bare && text[open] !== "{") out.push({ start: m.index, end: open + bare[0].length, content: bare[0] });
  }
  return out;
}

const ENV_RE =
  /(?<!\\)\$\$([\s\S]+?)(?<!\\)\$\$|(?<!\\)\\\[([\s\S]+?)(?<!\\)\\\]|(?<![\\\d])\$((?:\\\$|[^\n$])+?)(?<!\\)\$|(?<!\\)\\\(([^\n]+?)(?<!\\)\\\)/g;

/** Maths environments: $$…$$, \[…\], $…$ (one line), \(…\). */
export function findEnvs(text: string): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(ENV_RE)) {
    const content = m[1] ?? m[2] ?? m[3] ?? m[4] ?? "";
    out.push({ start: m.index, end: m.index + m[0].length, content });
  }
  return out;
}

/** Text between two answers counts as a connective ("and", ", ", "\quad \text{and} \quad") when it is short. */
function isConnective(between: string): boolean {
  const words = between.replace(/\\[a-zA-Z]+/g, " ").match(/[A-Za-z]+/g) ?? [];
  return between.length <= 60 && words.length <= 4 && !/[.!?]\s+[A-Z]/.test(between);
}

/** Consecutive spans joined by connectives form one multi-part answer; returns the last such run. */
function lastRun(spans: Span[], text: string, strict: boolean): string | null {
  const last = spans[spans.length - 1];
  if (!last) return null;
  const parts = [last.content];
  for (let i = spans.length - 2; i >= 0; i--) {
    const a = spans[i] as Span,
      b = spans[i + 1] as Span;
    const between = text.slice(a.end, b.start);
    const ok = strict ? /^[\s,;]*((and|or)[\s,]*)?$/i.test(between) && /\S/.test(between) : isConnective(between);
    if (!ok) break;
    parts.unshift(a.content);
  }
  return parts.join(", ");
}

export interface Candidate {
  source: "boxed" | "final" | "answer" | "env" | "whole" | "number";
  text: string;
}

/**
 * Answer candidates in priority order, at most one per source.
 * For each source we keep the rightmost one that `accept` (the parser) can read.
 */
export function extractCandidates(raw: string, accept: (s: string) => boolean): Candidate[] {
  const text = raw.replace(/(?<!\\)\\\\(?=(boxed|fbox|frac|text|left|right|le|ge)\b)/g, "\\");
  const out: Candidate[] = [];
  const push = (source: Candidate["source"], s: string | null | undefined) => {
    if (s !== null && s !== undefined && s.trim() !== "" && accept(s)) out.push({ source, text: s.trim() });
  };

  const boxed = findBoxed(text);
  push("boxed", lastRun(boxed, text, false));
  if (boxed.length > 1) push("boxed", (boxed[boxed.length - 1] as Span).content);

  const envs = findEnvs(text);
  const finalEnv = [...text.matchAll(/final answer.{0,100}?\bis\b:?\s*/gi)]
    .map((m) => envs.find((e) => e.start === m.index + m[0].length || e.start === m.index + m[0].length + 1))
    .filter((e): e is Span => e !== undefined);
  pushRightmost(
    out,
    "final",
    finalEnv.map((e) => e.content),
    accept,
  );

  const answerEnv = [...text.matchAll(/\banswer\s*[:：].{0,50}?/gi)]
    .map((m) => envs.find((e) => e.start >= m.index + m[0].length && e.start <= m.index + m[0].length + 50))
    .filter((e): e is Span => e !== undefined);
  pushRightmost(
    out,
    "answer",
    answerEnv.map((e) => e.content),
    accept,
  );

  for (let i = envs.length; i > 0; i--) {
    const run = lastRun(envs.slice(0, i), text, true);
    if (run && accept(run)) {
      out.push({ source: "env", text: run });
      break;
    }
  }

  if (envs.length === 0 && boxed.length === 0 && looksLikeMath(text)) push("whole", text);

  const plain = blank(text, [...envs, ...boxed]);
  const nums = plainNumbers(plain);
  const finalPlain = /final answer.{0,200}/gi.exec(plain);
  if (finalPlain) push("number", plainNumbers(finalPlain[0]).pop());
  push("number", nums.pop());
  return out;
}

function pushRightmost(out: Candidate[], source: Candidate["source"], texts: string[], accept: (s: string) => boolean): void {
  for (let i = texts.length - 1; i >= 0; i--) {
    const t = texts[i] as string;
    if (accept(t)) {
      out.push({ source, text: t.trim() });
      return;
    }
  }
}

/** A bare string is read as a formula only when it is short and not prose. */
function looksLikeMath(text: string): boolean {
  const t = text.trim();
  if (t.length > 120) return false;
  const words = t.replace(/\\[a-zA-Z]+/g, " ").match(/[A-Za-z]{4,}/g) ?? [];
  return words.length === 0;
}

function blank(text: string, spans: Span[]): string {
  const chars = [...text];
  for (const s of spans) for (let i = s.start; i < s.end && i < chars.length; i++) chars[i] = " ";
  return chars.join("");
}

const NUM_RE = /(?<![A-Za-z_\d.,])-?(?:[1-9]\d{0,2}(?:,\d{3})+(?!\d)|[1-9]\d{0,2}(?: \d{3})+(?!\d)|\d+)?(?:[.,]\d+)?(?:\/\d+)?(?:\s*%)?/g;

/** Numbers in prose, normalised: thousands separators dropped, a decimal comma read as a point. */
export function plainNumbers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(NUM_RE)) {
    let s = m[0].trim();
    if (!/\d/.test(s)) continue;
    if (/^-?[1-9]\d{0,2}([, ]\d{3})+/.test(s) && !/^-?\d+,\d{1,2}$/.test(s)) s = s.replace(/(\d)[, ](?=\d{3})/g, "$1");
    s = s.replace(/(\d),(\d)/, "$1.$2");
    out.push(s.replace(/\s*%$/, "\\%"));
  }
  return out;
}
