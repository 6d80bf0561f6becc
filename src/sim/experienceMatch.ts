/**
 * Decides whether an experience text addresses a pitfall, the way a reader would: it must name a
 * specific technique (e.g. "both endpoints", "last − first + 1") and either an action or the topic.
 * Naming the topic alone ("Be careful with inclusive counting.") is not enough, and a negated
 * technique ("Do not count both endpoints.") does not count.
 */
import { PITFALLS, type PitfallId } from "./pitfalls";
import { TOOL_MATCHERS } from "./toolPitfalls";

/** needsTopic: generic wording ("add one") that only counts next to the topic; standalone: a formula that speaks for itself. */
type Technique = { re: RegExp; needsTopic?: boolean; standalone?: boolean };
type Matcher = { topic: RegExp; action: RegExp; techniques: readonly Technique[] };

const MATCHERS: Record<PitfallId, Matcher> = {
  inclusive_count: {
    topic: /\b(ranges?|integers?|inclusive(ly)?|end ?points?|consecutive|numbered|pages?|through|closed)\b/,
    action: /\b(include\w*|including|count\w*|add\w*|use|take|compute|calculate|remember)\b/,
    techniques: [
      { re: /\bboth (end ?points|ends|bounds|limits|the first and the last)\b/ },
      { re: /\b(last|largest|upper|high|end|b|max)\s*[-−–]\s*(first|smallest|lower|low|start|a|min)\s*\+\s*1\b/, standalone: true },
      { re: /\bthe first and (the )?last\b/ },
      { re: /\b(add(ing)?|plus) (one|1)\b/, needsTopic: true },
      { re: /\+\s*1\b/, needsTopic: true },
    ],
  },
  order_of_operations: {
    topic: /\b(expressions?|order of operations|arithmetic|precedence|operators?)\b/,
    action: /\b(do|perform|evaluate|compute|apply|multiply|divide|follow|respect|use)\b/,
    techniques: [
      {
        re: /\b(multipl\w*|divi(de|des|ding|sion)|products?|quotients?)\b[^.]*\b(before|first|ahead of|then|prior to)\b[^.]*\b(add\w*|subtract\w*|sums?|addition|plus)\b/,
      },
      { re: /\b(pemdas|bodmas|bidmas|operator precedence|precedence rules?)\b/ },
      { re: /[×*÷/]\s*(and\s*[×*÷/]\s*)?(before|first)/ },
      { re: /\b(not|rather than)\b[^.]*\bleft[- ]to[- ]right\b/, needsTopic: true },
    ],
  },
  percent_base: {
    topic: /(\bpercent\w*|%|\bincrease\w*|\bdiscount\w*|\bdecrease\w*|\braise\w*|\boriginal\b)/,
    action: /\b(divide\w*|dividing|reverse|undo|work back|apply|remember|recover|compute|use)\b/,
    techniques: [
      { re: /\bdivid\w*\b[^.]*\b(by|through)\b[^.]*(1\s*[+±−-]|multiplier|factor|1\.\d)/ },
      { re: /\b(of|on|relative to) the (original|starting|old)( value| amount| price)?\b[^.]*\bnot\b[^.]*\b(new|final|result\w*|current)\b/ },
      { re: /\b(percent\w*|%)[^.]*\b(is|was) (taken |computed )?(of|on) the (original|starting|old)\b/ },
      { re: /\b(work(ing)? back\w*|revers\w*|undo\w*)\b[^.]*\bdivid\w*/, needsTopic: true },
    ],
  },
  unit_conversion: {
    topic: /\b(units?|convert\w*|conversion|hours?|minutes?|kilomet\w*|metres?|meters?|km)\b/,
    action: /\b(convert\w*|use|check|multiply|remember|apply)\b/,
    techniques: [
      { re: /\b60 (minutes|mins?)\b/ },
      { re: /\b1,?000 (metres|meters|m|grams|g|millilitres|ml)\b/ },
      { re: /\b(exact|correct|real|true|proper|right) (conversion )?factors?\b/ },
      { re: /\b(not|never) (by )?100\b/, needsTopic: true },
    ],
  },
  negative_remainder: {
    topic: /\b(remainders?|mod|modulo|modulus|modular|cycles?|negative|wrap\w*|clock|days? ago|backwards?)\b/,
    action: /\b(add\w*|take|keep|make|shift\w*|use|adjust|ensure)\b/,
    techniques: [
      { re: /\b(add\w*|shift\w*)\b[^.]*\b(modulus|divisor|cycle length|period|length of the cycle)\b/ },
      { re: /\b0\s*(≤|<=)\s*r\b/ },
      { re: /\bnon-?negative\b/, needsTopic: true },
      { re: /\bbetween 0 and\b/, needsTopic: true },
    ],
  },
  fence_posts: {
    topic: /\b(posts?|poles?|fences?|fence-post|trees?|lamps?|gaps?|intervals?|spaced|spacing|segments?)\b/,
    action: /\b(add\w*|count\w*|include\w*|remember|use)\b/,
    techniques: [
      { re: /\b(gaps?|intervals?|spaces?|segments?)\s*(\+|plus)\s*(1|one)\b/ },
      { re: /\bone more (posts?|poles?|trees?|lamps?)? ?than\b/ },
      { re: /\b(intervals?|gaps?|spaces?|segments?)\b[^.]*\b(add|plus)\w* (one|1)\b/ },
      { re: /\b(add\w*|plus) (one|1)\b/, needsTopic: true },
      { re: /\b(both|each) ends?\b/, needsTopic: true },
    ],
  },
  ...TOOL_MATCHERS,
};

const NEGATION = /\b(do not|don't|dont|never|avoid|no need to|should not|shouldn't|must not)\b(?!\s+(forget|omit|skip|miss|drop))/;

/** A sentence of experience text, with the library id of the line it came from, if any. */
export type Segment = { id: string | null; text: string };

const LINE_ID = /^\s*\[(E\d+)\]/;

export function segmentText(text: string): Segment[] {
  const out: Segment[] = [];
  for (const line of text.split(/\r?\n/)) {
    const id = LINE_ID.exec(line)?.[1] ?? null;
    for (const sentence of line.split(/(?<=[.!?])\s+(?=[A-Z[])/)) {
      if (sentence.trim() !== "") out.push({ id, text: sentence.trim() });
    }
  }
  return out;
}

/** True when the technique found at `index` sits in a clause with a negation before it. */
function negatedAt(sentence: string, index: number): boolean {
  const clauseStart = Math.max(
    sentence.lastIndexOf(";", index),
    sentence.lastIndexOf(",", index),
    sentence.lastIndexOf(":", index),
  );
  const clause = sentence.slice(clauseStart + 1, index);
  return NEGATION.test(clause);
}

/** Whether one sentence addresses a pitfall. */
export function sentenceAddresses(sentence: string, pitfall: PitfallId): boolean {
  const lower = sentence.toLowerCase();
  const m = MATCHERS[pitfall];
  const hasTopic = m.topic.test(lower);
  const hasAction = m.action.test(lower);
  for (const t of m.techniques) {
    const found = t.re.exec(lower);
    if (!found) continue;
    if (!t.standalone && (t.needsTopic ? !hasTopic : !(hasTopic || hasAction))) continue;
    if (negatedAt(lower, found.index)) continue;
    return true;
  }
  return false;
}

/** Pitfalls addressed anywhere in the text, each with the id of the first library line doing so. */
export function addressedPitfalls(text: string): Map<PitfallId, string | null> {
  const out = new Map<PitfallId, string | null>();
  for (const seg of segmentText(text)) {
    for (const p of PITFALLS) {
      if (out.has(p.id)) continue;
      if (sentenceAddresses(seg.text, p.id)) out.set(p.id, seg.id);
    }
  }
  return out;
}

export type Classification =
  | { kind: "specific"; pitfall: PitfallId }
  | { kind: "topic"; pitfall: PitfallId }
  | { kind: "generic" };

/** How a reviewer would read one experience: a specific lesson, a topic-only remark, or generic advice. */
export function classifyExperience(name: string, text: string): Classification {
  const full = `${name}: ${text}`;
  const addressed = addressedPitfalls(full);
  const first = [...addressed.keys()][0];
  if (first) return { kind: "specific", pitfall: first };
  const lower = full.toLowerCase();
  for (const p of PITFALLS) if (MATCHERS[p.id].topic.test(lower)) return { kind: "topic", pitfall: p.id };
  return { kind: "generic" };
}
