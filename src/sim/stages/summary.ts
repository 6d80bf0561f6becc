/** Stage 4 (summary): reads its own reasoning format in `<attempt>` and says where it went wrong. */
import { PITFALLS, type Pitfall } from "../pitfalls";
import { extractFinalAnswer } from "../solver";
import { parseLibrary } from "./common";

export const HANDLED = (p: Pitfall): string => `handled the ${p.label} pitfall correctly`;
export const WENT_WRONG = (p: Pitfall): string => `went wrong at the ${p.label} pitfall`;

const STEP_LINE = /^Step (\d+) \(([^)]+)\)(?:, applying (\[E\d+\]|the given experience))?: (.*)$/;

export function summaryReply(prompt: string): string {
  const reference = /Reference answer: (.*)/.exec(prompt)?.[1]?.trim() ?? "(not given)";
  const reward = Number(/Reward of this attempt: ([\d.]+)/.exec(prompt)?.[1] ?? "0");
  const attempts = [...prompt.matchAll(/<attempt>\n?([\s\S]*?)\n?<\/attempt>/g)];
  const attempt = attempts[attempts.length - 1]?.[1] ?? "";
  const library = parseLibrary(prompt);
  const final = extractFinalAnswer(attempt) ?? "(none)";
  const lines: string[] = [];
  const used = new Set<string>();
  let recognised = 0;
  let firstWrong: string | null = null;
  for (const raw of attempt.split("\n")) {
    const m = STEP_LINE.exec(raw.trim());
    if (!m) continue;
    const [, num, label, applying, rest] = m;
    const idMatch = applying ? /\[(E\d+)\]/.exec(applying) : null;
    if (idMatch?.[1]) used.add(idMatch[1]);
    const pitfall = PITFALLS.find((p) => p.stepLabel === label);
    const body = rest ?? "";
    if (pitfall && body.startsWith(pitfall.wrongMethod)) {
      recognised += 1;
      firstWrong ??= `step ${num}`;
      const misled = idMatch?.[1] ? `, misled by experience ${idMatch[1]}` : "";
      lines.push(
        `Step ${num} (${label}): ${WENT_WRONG(pitfall)} — it ${pitfall.wrongSummary} (${body.slice(pitfall.wrongMethod.length + 2)})${misled}.`,
      );
    } else if (pitfall && body.startsWith(pitfall.rightMethod)) {
      recognised += 1;
      const via = idMatch?.[1] ? `, following experience ${idMatch[1]}` : "";
      lines.push(`Step ${num} (${label}): ${HANDLED(pitfall)} — it ${pitfall.rightSummary}${via}.`);
    } else {
      lines.push(`Step ${num} (${label}): ${body}`);
    }
  }
  const verdict = reward >= 1 ? "correct" : reward > 0 ? "partly correct" : "wrong";
  const blind = !/Reward of this attempt:/.test(prompt);
  const head = blind
    ? `The attempt worked in ${lines.length} step(s) and answered ${final}; no reference answer was given, so it is judged by its steps: ${recognised === 0 && lines.length > 0 ? "it used no recognisable method" : firstWrong ? `the error entered at ${firstWrong}` : "every step is sound"}.`
    : recognised === 0 && lines.length > 0
      ? `The attempt did not use a recognisable method for this problem: it picked numbers from the text and combined them, answering ${final} against the reference ${reference}, so it was ${verdict} (reward ${reward}).`
      : `The attempt worked in ${lines.length} step(s) and answered ${final}; the reference answer is ${reference}, so it was ${verdict} (reward ${reward}).${firstWrong ? ` The error entered at ${firstWrong}.` : ""}`;
  const ids = library.map((i) => i.id);
  const applied = ids.filter((id) => used.has(id));
  const ignored = ids.filter((id) => !used.has(id));
  const exp =
    ids.length === 0
      ? "No experiences were available."
      : `Experiences applied: ${applied.length ? applied.join(", ") : "none"}. Experiences not applied: ${ignored.length ? ignored.join(", ") : "none"}.`;
  return `<summary>\n${[head, ...lines, exp].join("\n")}\n</summary>`;
}
