/**
 * The ablation's "without groups" stage: experiences written from questions and answers alone. The
 * reviewer recognises the topics of its own problems but sees no attempt, so it cannot tell which
 * pitfalls the assistant actually trips on: it writes one lesson per pitfall in order of how often the
 * problems raise it, with the same vague rate as the group advantage.
 */
import { PITFALLS, GENERIC_VAGUE, type PitfallId, type ExperienceText } from "../pitfalls";
import type { Rng } from "../rng";
import { findProblem } from "../templates";
import { VAGUE_RATE } from "./advantage";
import { fitWords, goodWithin, maxWordsOf, numberAfter } from "./common";

export function directReply(prompt: string, rng: Rng): string {
  const max = numberAfter(prompt, /Write at most (\d+) experience/) ?? 1;
  const maxWords = maxWordsOf(prompt);
  const counts = new Map<PitfallId, number>();
  for (const m of prompt.matchAll(/<problem index="\d+">\n?([\s\S]*?)<\/problem>/g)) {
    const found = findProblem(m[1] ?? "");
    for (const p of found?.template.pitfalls ?? []) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([p]) => p);
  const written: ExperienceText[] = [];
  for (const id of ranked.slice(0, Math.max(0, max))) {
    const p = PITFALLS.find((x) => x.id === id);
    if (!p) continue;
    if (rng.chance(VAGUE_RATE)) {
      const vague = rng.chance(0.5) ? p.topicOnly : rng.pick(GENERIC_VAGUE);
      written.push({ name: vague.name, text: fitWords(vague.text, maxWords) });
    } else {
      written.push(goodWithin(p.id, maxWords, rng.int(0, 2)));
    }
  }
  const items = written.map((e) => `<experience name="${e.name.replace(/"/g, "&quot;")}">${e.text}</experience>`).join("\n");
  return `<experiences>\n${items}${items ? "\n" : ""}</experiences>`;
}
