import { wordCount } from "./library";
import type { Operation } from "./operations";

/**
 * The group update refuses vague experiences (docs/learning.md, "Vague items are refused"): an item
 * must name a concrete situation and a concrete action. "Be careful with percentages." names a topic
 * and no action; "Double-check your work." names neither. Such items cost tokens on every proxied
 * request and change nothing a reader does, so they are refused with the reason recorded.
 */

/** Fewer words than this cannot hold both a situation and an action. */
export const MIN_SPECIFIC_WORDS = 6;

/** Advice to be careful in general: an attitude, not an action a reader could take. */
const GENERIC_CAUTION =
  /^(?:always\s+|remember\s+to\s+|make\s+sure\s+to\s+)?(?:be\s+(?:careful|cautious|mindful|attentive|aware)|take\s+care|pay\s+(?:close\s+)?attention|watch\s+out|look\s+out|beware|double[-\s]?check|check\s+your\s+(?:work|answer|steps)|read\s+(?:the\s+)?(?:problem|question|task)s?\s+carefully|think\s+(?:step\s+by\s+step|carefully)|stay\s+focused|focus\b|don'?t\s+rush|avoid\s+(?:mistakes|errors|careless))/i;

/** The main clause: what follows a leading "When …," / "If …," situation, if there is one. */
function mainClause(text: string): string {
  const m = /^(?:when|if|whenever|before|after|while|for|in)\b[^,;:]*[,;:]\s*(.*)$/i.exec(text.trim());
  return (m?.[1] ?? text).trim();
}

/** Why an experience text is too vague to keep, or null when it names a situation and an action. */
export function vagueReason(text: string): string | null {
  const words = wordCount(text);
  if (words < MIN_SPECIFIC_WORDS) return `too short to name a situation and an action (${words} words < ${MIN_SPECIFIC_WORDS})`;
  const clause = mainClause(text);
  if (GENERIC_CAUTION.test(clause)) return `generic caution ("${clause.split(/\s+/).slice(0, 4).join(" ")} …") names no concrete action`;
  return null;
}

export type RefusedOperation = { op: Operation; reason: string };

/** Splits a plan into the operations kept and the ADDs/UPDATEs refused as vague, each with its reason. */
export function refuseVague(plan: readonly Operation[]): { kept: Operation[]; refused: RefusedOperation[] } {
  const kept: Operation[] = [];
  const refused: RefusedOperation[] = [];
  for (const op of plan) {
    const reason = op.op === "ADD" || op.op === "UPDATE" ? vagueReason(op.text) : null;
    if (reason) refused.push({ op, reason: `vague: ${reason}` });
    else kept.push(op);
  }
  return { kept, refused };
}
