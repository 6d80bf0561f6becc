/**
 * Stage 6 (group update): one operation per new experience, chosen against the library shown:
 * NONE when an item already teaches that pitfall's technique (or says the same vague thing), UPDATE an
 * item on the same pitfall that gives wrong advice or only names the topic into the specific lesson,
 * ADD otherwise.
 */
import { classifyExperience } from "../experienceMatch";
import { pitfallById } from "../pitfalls";
import { fitWords, isSpecific, maxWordsOf, operationsJson, parseLibrary, sameText, type Operation } from "./common";

export function parseNewExperiences(prompt: string): { name: string; text: string }[] {
  const section = prompt.split(/New experiences:\n/)[1] ?? "";
  const out: { name: string; text: string }[] = [];
  for (const line of section.split("\n")) {
    const m = /^\d+\. ([^:]+): (.*)$/.exec(line.trim());
    if (!m) {
      if (out.length > 0) break;
      continue;
    }
    if (m[1] !== undefined && m[2] !== undefined) out.push({ name: m[1].trim(), text: m[2].trim() });
  }
  return out;
}

export function groupUpdateOps(prompt: string): Operation[] {
  const library = parseLibrary(prompt);
  const maxWords = maxWordsOf(prompt);
  const updated = new Set<string>();
  const ops: Operation[] = [];
  for (const e of parseNewExperiences(prompt)) {
    const cls = classifyExperience(e.name, e.text);
    const text = fitWords(e.text, maxWords);
    if (isSpecific(cls)) {
      const label = pitfallById(cls.pitfall).label;
      const covering = library.find((i) => isSpecific(i.cls) && i.cls.pitfall === cls.pitfall);
      if (covering) {
        ops.push({ op: "NONE", reason: `${covering.id} already says how to handle ${label}.` });
        continue;
      }
      // Wrong advice on the same pitfall is corrected first, then a topic-only remark is made specific.
      const weaker =
        library.find((i) => i.cls.kind === "misleading" && i.cls.pitfall === cls.pitfall && !updated.has(i.id)) ??
        library.find((i) => i.cls.kind === "topic" && i.cls.pitfall === cls.pitfall && !updated.has(i.id));
      if (weaker) {
        updated.add(weaker.id);
        ops.push({ op: "UPDATE", id: weaker.id, name: e.name, text });
        continue;
      }
      ops.push({ op: "ADD", name: e.name, text });
      continue;
    }
    const duplicate = library.find((i) => sameText(i.text, e.text));
    if (duplicate) {
      ops.push({ op: "NONE", reason: `${duplicate.id} already says this.` });
      continue;
    }
    if (cls.kind === "topic" || cls.kind === "misleading") {
      const specific = library.find((i) => isSpecific(i.cls) && i.cls.pitfall === cls.pitfall);
      if (specific) {
        ops.push({ op: "NONE", reason: `${specific.id} already covers ${pitfallById(cls.pitfall).label} more precisely.` });
        continue;
      }
    }
    // A vague lesson is still added, as a real reviewer often would; consolidation removes it later.
    ops.push({ op: "ADD", name: e.name, text });
  }
  return ops;
}

export function groupUpdateReply(prompt: string): string {
  return operationsJson(groupUpdateOps(prompt));
}
