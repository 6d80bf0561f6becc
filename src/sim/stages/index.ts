/** Recognises a reflection stage by the headings of `STAGE_HEADINGS` and dispatches to its replier. */
import { STAGE_HEADINGS } from "../../core/prompts";
import type { Rng } from "../rng";
import { advantageReply } from "./advantage";
import { batchUpdateReply } from "./batchUpdate";
import { consolidateReply } from "./consolidate";
import { directReply } from "./direct";
import { groupUpdateReply } from "./groupUpdate";
import { judgeReply } from "./judge";
import { pairJudgeReply, replayCritiqueReply } from "./replayJudge";
import { summaryReply } from "./summary";

export type Stage = keyof typeof STAGE_HEADINGS;

/** Stages that must reply with JSON, and those that reply with tags (for the "malformed" fault). */
export const JSON_STAGES: readonly Stage[] = ["groupUpdate", "batchUpdate", "consolidate", "judge", "replayCritique", "pairJudge"];

/** The stage whose heading opens (or appears in) the text, if any. */
export function detectStage(text: string): Stage | null {
  const entries = Object.entries(STAGE_HEADINGS) as [Stage, string][];
  const opening = entries.find(([, h]) => text.trimStart().startsWith(h));
  if (opening) return opening[0];
  const anywhere = entries.find(([, h]) => text.includes(h));
  return anywhere ? anywhere[0] : null;
}

export function stageReply(stage: Stage, prompt: string, rng: Rng): string {
  switch (stage) {
    case "summary":
      return summaryReply(prompt);
    case "advantage":
      return advantageReply(prompt, rng);
    case "groupUpdate":
      return groupUpdateReply(prompt);
    case "batchUpdate":
      return batchUpdateReply(prompt);
    case "consolidate":
      return consolidateReply(prompt);
    case "judge":
      return judgeReply(prompt);
    case "direct":
      return directReply(prompt, rng);
    case "replayCritique":
      return replayCritiqueReply(prompt);
    case "pairJudge":
      return pairJudgeReply(prompt);
  }
}

/** A reply garbled the way a careless model garbles a format: JSON cut short, tags left open. */
export function garble(stage: Stage | null, content: string): string {
  if (stage && JSON_STAGES.includes(stage)) return content.slice(0, Math.max(1, Math.floor(content.length * 0.6)));
  // A reply the client's parser rejects, so that it retries: the parsers accept a summary without its
  // closing tag and an unnamed experience (real models write those), so a milder garble would be stored
  // as a different reply and change what the run learns.
  if (stage === "summary") return "";
  return content.replace(/<[^>]*>/g, "");
}
