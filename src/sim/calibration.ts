/** Measures the simulated model's accuracy on a data set with a given library, in-process. */
import { renderLibrary } from "../core/library";
import type { SimProblem } from "./generator";
import { createSimulatedModel } from "./index";
import { GENERIC_VAGUE, PITFALLS, type ExperienceText } from "./pitfalls";
import { extractFinalAnswer, sameAnswer } from "./solver";
import { classifyExperience } from "./experienceMatch";
import { tokenCount } from "./wire";

export type LibraryItem = { id: string; name: string; text: string };

const withIds = (items: readonly ExperienceText[]): LibraryItem[] => items.map((e, i) => ({ id: `E${i + 1}`, ...e }));

/** One canonical lesson per pitfall. */
export const GOOD_LIBRARY: LibraryItem[] = withIds(PITFALLS.map((p) => p.experience));
/** Generic advice plus topic-only remarks: nothing a reader could apply. */
export const VAGUE_LIBRARY: LibraryItem[] = withIds([...GENERIC_VAGUE, ...PITFALLS.map((p) => p.topicOnly)]);
/** The wrong rule for every pitfall: what a harmful library looks like. */
export const MISLEADING_LIBRARY: LibraryItem[] = withIds(PITFALLS.flatMap((p) => (p.misleading ? [p.misleading] : [])));

/** Mean accuracy (one sample per problem, seed = problem index) with the library in the system message. */
export async function measureAccuracy(
  problems: readonly SimProblem[],
  library: readonly LibraryItem[],
  temperature: number,
): Promise<number> {
  const model = createSimulatedModel();
  const system = renderLibrary(library);
  let correct = 0;
  for (const [i, p] of problems.entries()) {
    const messages = [...(system ? [{ role: "system", content: system }] : []), { role: "user", content: p.question }];
    const res = await model.fetch(
      new Request("http://sim/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "sim-1", messages, temperature, seed: i }),
      }),
    );
    const body = (await res.json()) as { choices: { message: { content: string | null } }[] };
    const answer = extractFinalAnswer(body.choices[0]?.message.content ?? "");
    if (answer !== null && sameAnswer(answer, p.answer)) correct++;
  }
  return problems.length === 0 ? 0 : correct / problems.length;
}

/**
 * Library precision as the simulated model reads it (issue 13): items that teach the right handling of
 * a pitfall ÷ all items, and the tokens the rendered library adds to every proxied request.
 */
export function libraryQuality(items: readonly LibraryItem[]): { fixing: number; total: number; precision: number; tokens: number } {
  const fixing = items.filter((i) => classifyExperience(i.name, i.text).kind === "specific").length;
  return {
    fixing,
    total: items.length,
    precision: items.length === 0 ? 0 : fixing / items.length,
    tokens: tokenCount(renderLibrary(items)),
  };
}
