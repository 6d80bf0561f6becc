/**
 * Reads experience text the way a model would: by the meaning-bearing words of each sentence, not by
 * one fixed phrasing. For each pitfall a sentence may state the right technique ("count both
 * endpoints", "n − m + 1", "divide by 1 + the rate") or the wrong one ("last minus first", "left to
 * right", "100 minutes in an hour"). A technique that is negated ("never count both endpoints") or a
 * wrong method that is criticised ("subtracting alone undercounts", "rather than left to right") flips
 * its sense. The sentence *helps* with a pitfall when its senses add up to the right technique and
 * *misleads* when they add up to the wrong one. Naming the topic alone ("Be careful with inclusive
 * counting.") is neither.
 *
 * Text is normalised first (lower case, `+ − × ÷ /` as words, number words as digits), so "add one",
 * "+ 1" and "plus 1" read alike.
 */
import { PITFALLS, type PitfallId } from "./pitfalls";
import { TOOL_MATCHERS } from "./toolPitfalls";

/** `right`: states the fix. `wrong`: states the mistake. `partial`: a wrong cue that is only a first
 * step of the right method (subtracting, dividing length by spacing) and does not count when the same
 * sentence also completes it. `shared`: generic wording (add one, both ends) that belongs to whichever
 * pitfall's topic the sentence is about. `needsTopic`: counts only next to the pitfall's topic. */
type Cue = {
  re: RegExp;
  sense: "right" | "wrong";
  needsTopic?: boolean;
  /** With `needsTopic`: also counts next to these words (an action, as in "use", "run"). */
  orWith?: RegExp;
  shared?: boolean;
  partial?: boolean;
  /** Extra check on the match (e.g. that "1.5 hours is 90 minutes" is arithmetically right). */
  holds?: (m: RegExpExecArray) => boolean;
};
type Reader = { topic: RegExp; cues: readonly Cue[] };
/**
 * A simpler form for a pitfall family that only needs to recognise the fix: techniques that count
 * alone (`standalone`), next to the topic (`needsTopic`), or next to the topic or an action word.
 */
export type TechniqueMatcher = {
  topic: RegExp;
  action: RegExp;
  techniques: readonly { re: RegExp; needsTopic?: boolean; standalone?: boolean }[];
};

function toReader(m: Reader | TechniqueMatcher): Reader {
  if ("cues" in m) return m;
  return {
    topic: m.topic,
    cues: m.techniques.map(
      (t): Cue =>
        t.standalone
          ? { re: t.re, sense: "right" }
          : { re: t.re, sense: "right", needsTopic: true, ...(t.needsTopic ? {} : { orWith: m.action }) },
    ),
  };
}

const END = "(?:last|largest|upper|higher|high|end|ending|final|top|b|n|y|max)";
const START = "(?:first|smallest|lower|low|start|starting|initial|bottom|a|m|x|min)";
const BOUND = "(?: value| number| page| bound)?";

/** "1.5 hours equals 90 minutes", "2 km is 2000 m": right when the stated numbers use the exact factor. */
function conversion(factor: number): (m: RegExpExecArray) => boolean {
  return (m) => Math.abs(Number(m[1]) * factor - Number(m[2])) < 1e-9;
}
function wrongConversion(factor: number): (m: RegExpExecArray) => boolean {
  return (m) => !conversion(factor)(m);
}

const READER_SOURCES: Record<PitfallId, Reader | TechniqueMatcher> = {
  inclusive_count: {
    topic:
      /\b(ranges?|inclusive(ly)?|integers?|end ?points?|spans?|consecutive|numbered|pages?|through|closed|members?)\b|\bfrom \S+ (up )?to \S+|\b(first|start\w*)\b[^.;]*?\b(last|end\w*)\b/,
    cues: [
      { re: new RegExp(`\\b${END}${BOUND} minus (the )?${START}${BOUND} plus 1\\b`), sense: "right" },
      { re: /\bboth (end ?points|bounds|limits|extremes|the first and (the )?last)\b/, sense: "right" },
      { re: /\bboth ends\b/, sense: "right", needsTopic: true, shared: true },
      { re: /\b(plus|add\w*) 1\b|\b1 more\b|\bexceed\w* [^.;]*\bby 1\b/, sense: "right", needsTopic: true, shared: true },
      { re: /\b(count\w*|includ\w*) (the )?(first|start\w*|end ?points?|lower end|both)\b/, sense: "right", needsTopic: true },
      { re: /\bboth \S+ and \S+ (are )?(included|counted)\b/, sense: "right", needsTopic: true },
      {
        re: /\b(first|start\w*|lower end|end ?point)( value| number)?( itself)? (is|are) (counted|included)\b/,
        sense: "right",
        needsTopic: true,
      },
      { re: new RegExp(`\\b${END}${BOUND} minus (the )?${START}${BOUND}\\b(?! plus)`), sense: "wrong" },
      { re: /\b(skip|exclud|drop|leav\w* out|omit)\w* (1|an|the|one of the) (end ?points?|ends?|bounds?)\b/, sense: "wrong" },
      {
        re: /\b(subtract\w*|(tak\w*|use|using|just|simply|only) (the )?(plain |simple )?difference)\b/,
        sense: "wrong",
        needsTopic: true,
        partial: true,
      },
    ],
  },
  order_of_operations: {
    topic:
      /\b(expressions?|order of operations|arithmetic|precedence|operators?|operations|priority|calculator|formula|bodmas|pemdas|bidmas)\b|\bplus \S+ times\b/,
    cues: [
      {
        re: /\b(multipl\w*|divi\w*|products?|quotients?|times)\b[^.;]*?\b(before|ahead of|prior to|priority over|precedence over|tighter than)\b[^.;]*?\b(add\w*|subtract\w*|sums?|differences?|addition|plus|minus)\b/,
        sense: "right",
      },
      {
        re: /\b(multipl\w*|divi\w*|products?|quotients?|times)\b[^.;]*?\b(first|then|over)\b[^.;]*?\b(add\w*|subtract\w*|sums?|differences?|addition|plus|minus)\b/,
        sense: "right",
        needsTopic: true,
      },
      {
        re: /\b(pemdas|bodmas|bidmas|operator precedence|precedence rules?|rules of precedence|(standard|usual|normal) precedence)\b/,
        sense: "right",
      },
      {
        re: /\b(multiplication|division|products?)\b[^.;]*\b(binds? tighter|takes? (priority|precedence)|has (priority|precedence))\b/,
        sense: "right",
      },
      { re: /\bleft[- ]to[- ]right\b/, sense: "wrong" },
      { re: /\b(add\w*|sums?|addition|plus)\b[^.;]*?\bbefore\b[^.;]*?\b(multipl\w*|times|products?)\b/, sense: "wrong" },
      {
        re: /\b(first two numbers|whatever the operator|regardless of (the )?operators?|in the order (they|it) (appear|are written|is written|come)s?)\b/,
        sense: "wrong",
      },
    ],
  },
  percent_base: {
    topic: /\b(percent\w*|increase\w*|discount\w*|decrease\w*|raises?|raised|mark-?ups?|growth|grew|original|sale price|markdown)\b/,
    cues: [
      { re: /\b(divid\w*|over)\b[^.;]*?\b1 (plus|minus)\b/, sense: "right", needsTopic: true },
      { re: /\bdivid\w*\b/, sense: "right", needsTopic: true },
      {
        re: /\b(of|on|relative to|appl(y|ies) to|applied to|based on|taken of|taken on|computed on) the (original|starting|old|base|earlier|initial|previous|first|pre-\w+)\b/,
        sense: "right",
        needsTopic: true,
      },
      {
        re: /\bpercent\w* of the (new|final|sale|current|result\w*|later|discounted|increased|reduced|changed)\b/,
        sense: "wrong",
        needsTopic: true,
      },
      {
        re: /\bappl\w* the percent\w* to the (new|final|sale|current|result\w*|later|discounted|increased|reduced|changed)\b/,
        sense: "wrong",
        needsTopic: true,
      },
    ],
  },
  unit_conversion: {
    topic:
      /\b(units?|convert\w*|conversions?|hours?|minutes?|mins?|kilomet\w*|km|metres?|meters?|time|decimal|seconds?|grams?|kg|litres?|liters?)\b/,
    cues: [
      { re: /\b60 (minutes|mins?)\b/, sense: "right" },
      { re: /\b1000 (metres|meters|m|grams|g|millilitres|ml)\b/, sense: "right" },
      { re: /\b(exact|correct|real|true|proper|right|actual) (conversion )?factors?\b/, sense: "right" },
      { re: /\b(times|multipl\w*|by) (\S+ )?(60|1000)\b/, sense: "right", needsTopic: true },
      { re: /\b(\d+(?:\.\d+)?) hours? (?:equals?|is|are|makes?|gives?) (\d+(?:\.\d+)?) minutes\b/, sense: "right", holds: conversion(60) },
      {
        re: /\b(\d+(?:\.\d+)?) hours? (?:equals?|is|are|makes?|gives?) (\d+(?:\.\d+)?) minutes\b/,
        sense: "wrong",
        holds: wrongConversion(60),
      },
      {
        re: /\b(\d+(?:\.\d+)?) (?:km|kilomet\w*) (?:equals?|is|are|makes?|gives?) (\d+(?:\.\d+)?) (?:m|metres|meters)\b/,
        sense: "right",
        holds: conversion(1000),
      },
      {
        re: /\b(\d+(?:\.\d+)?) (?:km|kilomet\w*) (?:equals?|is|are|makes?|gives?) (\d+(?:\.\d+)?) (?:m|metres|meters)\b/,
        sense: "wrong",
        holds: wrongConversion(1000),
      },
      { re: /\b100\b/, sense: "wrong", needsTopic: true },
      { re: /\bdecimal\b/, sense: "wrong", needsTopic: true },
    ],
  },
  negative_remainder: {
    topic:
      /\b(remainders?|mod|modulo|modulus|modular|cycles?|negative|wrap\w*|clock|ago|backwards?|dial|divisor|weekdays?|below (zero|0))\b/,
    cues: [
      {
        re: /\b(add\w*|plus|shift\w* up|increas\w*|adjust\w*)\b[^.;]*?\b(modulus|divisor|cycle length|period|length of the cycle|number of positions|positions|7|12|24)\b/,
        sense: "right",
        needsTopic: true,
      },
      {
        re: /\bnon-?negative\b|\b(at least|no less than) 0\b|\bbetween 0 and\b|\b0 (<=|≤) r\b|\b0 ?\.\. ?\w/,
        sense: "right",
        needsTopic: true,
      },
      { re: /\b(stays?|remains?|keeps?|keeping|leaves?|leaving|left|kept)\b[^.;]*?\bnegative\b/, sense: "wrong", needsTopic: true },
      { re: /\b((negative )?sign (included|kept)|keep\w* (the|its) sign|as the division gives it|sign-keeping)\b/, sense: "wrong" },
    ],
  },
  fence_posts: {
    topic:
      /\b(posts?|poles?|fences?|fence-posts?|trees?|lamps?|gaps?|intervals?|spaced|spacing|segments?|spaces between|pickets?|objects?|items placed)\b/,
    cues: [
      { re: /\b(gaps?|intervals?|spaces?|segments?|spacing)\b[^.;]*?\b(plus 1|add\w* 1)\b/, sense: "right", needsTopic: true },
      { re: /\b(plus|add\w*) 1\b|\b1 more\b/, sense: "right", needsTopic: true, shared: true },
      { re: /\b(both|each) ends?\b/, sense: "right", needsTopic: true, shared: true },
      {
        re: /\b1 (post|pole|tree|lamp|picket)s? (for|per) (every |each )?(gap|interval|space|segment)\b/,
        sense: "wrong",
        needsTopic: true,
      },
      {
        re: /\b(posts?|poles?|trees?|lamps?|objects?) (equals?|is|are) (the |simply |just )*length divided by (the )?spacing\b(?! plus)/,
        sense: "wrong",
        needsTopic: true,
        partial: true,
      },
    ],
  },
  ...TOOL_MATCHERS,
};

const READERS = Object.fromEntries(Object.entries(READER_SOURCES).map(([id, m]) => [id, toReader(m)])) as Record<PitfallId, Reader>;

/** Text in the reader's vocabulary: lower case, operators and number words as words and digits. */
export function normalise(text: string): string {
  const NUMBER_WORDS: Record<string, string> = { zero: "0", one: "1", two: "2", seven: "7", sixty: "60", hundred: "100", thousand: "1000" };
  return text
    .toLowerCase()
    .replace(/[‘’]/g, "'")
    .replace(/\ba thousand\b/g, "1000")
    .replace(/\b(zero|one|two|seven|sixty|hundred|thousand)\b/g, (w) => NUMBER_WORDS[w] ?? w)
    .replace(/[−–—]/g, " minus ")
    .replace(/(?<=\b[a-z0-9])\s*-\s*(?=[a-z0-9]\b)/g, " minus ")
    .replace(/\s-\s/g, " minus ")
    .replace(/\+/g, " plus ")
    .replace(/±/g, " plus or minus ")
    .replace(/[×*]/g, " times ")
    .replace(/÷/g, " divided by ")
    .replace(/\//g, " over ")
    .replace(/%/g, " percent ")
    .replace(/(?<![<>!=])=(?!=)/g, " equals ")
    .replace(/[()[\]{}"]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Words that turn what follows them (within the clause) into its opposite. "Don't forget" is not one. */
const NEGATION =
  /\b(do not|don't|dont|does not|doesn't|never|not|no need to|needn't|avoid\w*|instead of|rather than|without|should not|shouldn't|must not|mustn't|stop)\b(?!\s+(forget|omit|skip|miss|drop|only))/;
/** Words that present a method as a mistake. */
const CRITIQUE =
  /\b(undercount\w*|overcount\w*|miss(es|ing)?|mistake\w*|wrong|errors?|incorrect\w*|off by 1|does not (restore|work|give)|doesn't (restore|work|give)|fails?|confus\w*|trap)\b/;
/** Words that make a wrong method the condition of a rule ("if the remainder is left negative, …"), not the rule. */
const CONDITION = /\b(if|when|whenever|once|unless)\b/;
/** Clause boundaries for the scope of a negation or critique. */
const CLAUSE = /[,;:]|\b(but|so|because|since|whereas|while)\b/g;

function clauseAround(sentence: string, index: number, length: number): { before: string; whole: string } {
  let start = 0;
  let end = sentence.length;
  for (const m of sentence.matchAll(CLAUSE)) {
    if (m.index + m[0].length <= index) start = m.index + m[0].length;
    else if (m.index >= index + length) {
      end = m.index;
      break;
    }
  }
  return { before: sentence.slice(start, index), whole: sentence.slice(start, end) };
}

type Hit = { cue: Cue; sign: 1 | -1 };

/** The senses of every cue of `reader` in one normalised sentence. */
function hitsIn(sentence: string, reader: Reader, hasTopic: boolean): Hit[] {
  const hits: Hit[] = [];
  for (const cue of reader.cues) {
    if (cue.needsTopic && !hasTopic && !cue.orWith?.test(sentence)) continue;
    const g = new RegExp(cue.re.source, "g");
    for (const m of sentence.matchAll(g)) {
      if (cue.holds && !cue.holds(m as RegExpExecArray)) continue;
      const { before, whole } = clauseAround(sentence, m.index, m[0].length);
      const negated = NEGATION.test(before);
      if (cue.sense === "right") {
        hits.push({ cue, sign: negated ? -1 : 1 });
        continue;
      }
      if (negated || CRITIQUE.test(whole)) hits.push({ cue, sign: 1 });
      else if (!CONDITION.test(before)) hits.push({ cue, sign: -1 });
    }
  }
  // A first step of the right method ("subtract the first from the last") is not a mistake when the
  // sentence goes on to complete it ("… and add one").
  const completed = hits.some((h) => h.cue.sense === "right" && h.sign > 0);
  return hits.filter((h) => !(completed && h.cue.partial && h.sign < 0));
}

function topicHits(sentence: string, pitfall: PitfallId): number {
  return [...sentence.matchAll(new RegExp(READERS[pitfall].topic.source, "g"))].length;
}

/** +n: the sentence helps with the pitfall; −n: it misleads; 0: neither (or both equally). */
export function sentenceStance(sentence: string, pitfall: PitfallId): number {
  const text = normalise(sentence);
  const reader = READERS[pitfall];
  const topics = topicHits(text, pitfall);
  let hits = hitsIn(text, reader, topics > 0);
  // Generic wording shared by two pitfalls belongs to the one the sentence is more about.
  const rival = PITFALLS.filter((p) => p.id !== pitfall && READERS[p.id].cues.some((c) => c.shared)).map((p) => topicHits(text, p.id));
  if (rival.some((n) => n > topics)) hits = hits.filter((h) => !h.cue.shared);
  return hits.reduce((s, h) => s + h.sign, 0);
}

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

export type Stance = "helps" | "misleads";
/** How the prompt's experiences bear on one pitfall, with the library id of the first line that does so. */
export type Reading = { stance: Stance; id: string | null };

/**
 * How the whole text bears on each pitfall. Advice that both helps and misleads on the same pitfall
 * (one item says the fix, another the mistake) cancels out: the reader is left to its own habits.
 */
export function readExperiences(text: string): Map<PitfallId, Reading> {
  const helps = new Map<PitfallId, string | null>();
  const misleads = new Map<PitfallId, string | null>();
  for (const seg of segmentText(text)) {
    for (const p of PITFALLS) {
      const s = sentenceStance(seg.text, p.id);
      if (s > 0 && !helps.has(p.id)) helps.set(p.id, seg.id);
      if (s < 0 && !misleads.has(p.id)) misleads.set(p.id, seg.id);
    }
  }
  const out = new Map<PitfallId, Reading>();
  for (const p of PITFALLS) {
    const h = helps.has(p.id);
    const m = misleads.has(p.id);
    if (h && !m) out.set(p.id, { stance: "helps", id: helps.get(p.id) ?? null });
    if (m && !h) out.set(p.id, { stance: "misleads", id: misleads.get(p.id) ?? null });
  }
  return out;
}

/** Pitfalls the text teaches the right technique for, each with the id of the first library line doing so. */
export function addressedPitfalls(text: string): Map<PitfallId, string | null> {
  const out = new Map<PitfallId, string | null>();
  for (const [p, r] of readExperiences(text)) if (r.stance === "helps") out.set(p, r.id);
  return out;
}

export type Classification =
  | { kind: "specific"; pitfall: PitfallId }
  | { kind: "misleading"; pitfall: PitfallId }
  | { kind: "topic"; pitfall: PitfallId }
  | { kind: "generic" };

/** How a reviewer would read one experience: a specific lesson, wrong advice, a topic-only remark, or generic advice. */
export function classifyExperience(name: string, text: string): Classification {
  const full = `${name}: ${text}`;
  const reading = [...readExperiences(full)][0];
  if (reading)
    return reading[1].stance === "helps" ? { kind: "specific", pitfall: reading[0] } : { kind: "misleading", pitfall: reading[0] };
  const lower = normalise(full);
  for (const p of PITFALLS) if (READERS[p.id].topic.test(lower)) return { kind: "topic", pitfall: p.id };
  return { kind: "generic" };
}
