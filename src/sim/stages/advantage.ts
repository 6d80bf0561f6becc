/**
 * Stage 5 (group advantage): writes an experience only for a pitfall that the group handled both
 * right and wrong. About 30% of written experiences come out vague, as real reviewers' often do.
 */
import { PITFALLS, GENERIC_VAGUE, type PitfallId, type ExperienceText } from "../pitfalls";
import type { Rng } from "../rng";
import { fitWords, goodWithin, maxWordsOf, numberAfter } from "./common";
import { HANDLED, WENT_WRONG } from "./summary";

export const VAGUE_RATE = 0.3;

type Contrast = { pitfall: PitfallId; right: number[]; wrong: number[] };

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

export function advantageReply(prompt: string, rng: Rng): string {
  const maxExperiences = numberAfter(prompt, /write at most (\d+) experience/) ?? 1;
  const maxWords = maxWordsOf(prompt);
  // Without ground truth the prompt gives no rewards: an attempt whose summary shows no wrong step counts as the better one.
  const attempts = [...prompt.matchAll(/<attempt index="(\d+)"(?: reward="([\d.]+)")?>\n?([\s\S]*?)\n?<\/attempt>/g)].map((m) => ({
    index: Number(m[1]),
    reward: m[2] === undefined ? (/went wrong at the/.test(m[3] ?? "") ? 0 : 1) : Number(m[2]),
    summary: m[3] ?? "",
  }));
  const contrasts: Contrast[] = [];
  for (const p of PITFALLS) {
    const right = attempts.filter((a) => a.summary.includes(HANDLED(p))).map((a) => a.index);
    const wrong = attempts.filter((a) => a.summary.includes(WENT_WRONG(p))).map((a) => a.index);
    if (right.length > 0 && wrong.length > 0) contrasts.push({ pitfall: p.id, right, wrong });
  }
  // Order by where the pitfall first bites in the summaries, so the earliest error is taught first.
  const firstPos = (c: Contrast): number => {
    const p = PITFALLS.find((x) => x.id === c.pitfall);
    const pos = attempts.map((a) => (p ? a.summary.indexOf(`(${p.stepLabel})`) : -1)).filter((i) => i >= 0);
    return pos.length ? Math.min(...pos) : Infinity;
  };
  contrasts.sort((a, b) => firstPos(a) - firstPos(b));

  const good = attempts.filter((a) => a.reward >= 1).map((a) => a.index);
  const bad = attempts.filter((a) => a.reward < 1).map((a) => a.index);
  const analysis: string[] = [];
  const blind = !/reward="/.test(prompt);
  analysis.push(
    blind
      ? `Attempts ${good.join(", ") || "none"} reasoned soundly and attempts ${bad.join(", ") || "none"} made a wrong step.`
      : `Attempts ${good.join(", ") || "none"} succeeded and attempts ${bad.join(", ") || "none"} failed.`,
  );
  for (const c of contrasts) {
    const p = PITFALLS.find((x) => x.id === c.pitfall);
    if (!p) continue;
    analysis.push(
      `Attempts ${c.right.join(", ")} ${HANDLED(p)} (${p.rightSummary}); attempts ${c.wrong.join(", ")} ${WENT_WRONG(p)} (${p.wrongSummary}).`,
    );
  }
  if (contrasts.length === 0)
    analysis.push(
      "The summaries show no step that the better attempts handled differently from the worse ones, so there is no lesson to extract.",
    );

  const written: ExperienceText[] = [];
  for (const c of contrasts.slice(0, Math.max(0, maxExperiences))) {
    const p = PITFALLS.find((x) => x.id === c.pitfall);
    if (!p) continue;
    if (rng.chance(VAGUE_RATE)) {
      const vague = rng.chance(0.5) ? p.topicOnly : rng.pick(GENERIC_VAGUE);
      written.push({ name: vague.name, text: fitWords(vague.text, maxWords) });
    } else {
      written.push(goodWithin(p.id, maxWords, rng.int(0, 2)));
    }
  }
  const exps = written.map((e) => `<experience name="${escapeXml(e.name)}">${e.text}</experience>`).join("\n");
  const credit = prompt.includes("<credit>") ? `\n${creditBlock(attempts)}` : "";
  return `<analysis>${analysis.join(" ")}</analysis>\n<experiences>\n${exps}${exps ? "\n" : ""}</experiences>${credit}`;
}

/** Credit as the prompt asks for it, read off the summaries: an item followed at a right step helped, one that misled hurt. */
function creditBlock(attempts: readonly { index: number; summary: string }[]): string {
  const lines = attempts.map((a) => {
    const helped = [...a.summary.matchAll(/following experience (E\d+)/g)].map((m) => `${m[1]} helped`);
    const hurt = [...a.summary.matchAll(/misled by experience (E\d+)/g)].map((m) => `${m[1]} hurt`);
    const all = [...new Set([...helped, ...hurt])];
    return `<rollout index="${a.index}">${all.length ? all.join(", ") : "none"}</rollout>`;
  });
  return `<credit>\n${lines.join("\n")}\n</credit>`;
}
