/** Helpers shared by the reflection stages: reading the library and sections out of a prompt. */
import { wordCount } from "../../core/library";
import { classifyExperience, type Classification } from "../experienceMatch";
import { PITFALLS, type ExperienceText, type PitfallId } from "../pitfalls";

export type LibItem = { id: string; name: string; text: string; cls: Classification };

/** Library lines as rendered by `renderLibrary`: `[E3] Name: text`. */
export function parseLibrary(text: string): LibItem[] {
  const out: LibItem[] = [];
  for (const m of text.matchAll(/^\[(E\d+)\] ([^:\n]+): (.*)$/gm)) {
    const [, id, name, body] = m;
    if (id && name !== undefined && body !== undefined) out.push({ id, name, text: body, cls: classifyExperience(name, body) });
  }
  return out;
}

/** First number after a phrase such as "at most". */
export function numberAfter(text: string, phrase: RegExp): number | null {
  const m = phrase.exec(text);
  return m?.[1] !== undefined ? Number(m[1]) : null;
}

export function maxWordsOf(text: string, fallback = 32): number {
  return numberAfter(text, /at most (\d+) words/) ?? fallback;
}

/** Shortens to at most `max` words, keeping a final full stop (used only when no shorter variant fits). */
export function fitWords(text: string, max: number): string {
  if (wordCount(text) <= max) return text;
  const words = text.trim().split(/\s+/).slice(0, Math.max(1, max));
  return `${words.join(" ").replace(/[,;:.]+$/, "")}.`;
}

/** The good wordings of a pitfall's lesson, canonical first. */
export function goodVariants(pitfall: PitfallId): ExperienceText[] {
  const p = PITFALLS.find((x) => x.id === pitfall);
  return p ? [p.experience, ...p.paraphrases] : [];
}

/** A good wording that fits the word cap, preferring `preferred` (an index into the variants). */
export function goodWithin(pitfall: PitfallId, maxWords: number, preferred = 0): ExperienceText {
  const variants = goodVariants(pitfall);
  const ordered = [...variants.slice(preferred), ...variants.slice(0, preferred)];
  const fits = ordered.find((v) => wordCount(v.text) <= maxWords);
  if (fits) return fits;
  const shortest = [...variants].sort((a, b) => wordCount(a.text) - wordCount(b.text))[0];
  if (!shortest) throw new Error(`no wording for ${pitfall}`);
  return { name: shortest.name, text: fitWords(shortest.text, maxWords) };
}

export function isSpecific(c: Classification): c is { kind: "specific"; pitfall: PitfallId } {
  return c.kind === "specific";
}

export function sameText(a: string, b: string): boolean {
  const norm = (s: string): string =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, " ")
      .trim();
  return norm(a) === norm(b);
}

export type Operation =
  | { op: "ADD"; name: string; text: string }
  | { op: "UPDATE"; id: string; name: string; text: string }
  | { op: "DELETE"; id: string; reason: string }
  | { op: "NONE"; reason: string };

export function operationsJson(ops: readonly Operation[]): string {
  return JSON.stringify({ operations: ops }, null, 1);
}
