/** Seeded generator of the simulated task family; answers are correct by construction. */
import { createRng, hashParts, type Rng } from "./rng";
import { TEMPLATES, fmt, renderTemplate, type Params, type StepFn, type Template } from "./templates";
import type { PitfallId } from "./pitfalls";

export type SimProblem = { id: string; question: string; answer: string; pitfalls: PitfallId[] };

/** The true value: every step takes its right method. */
export function trueAnswer(t: Template, p: Params): number {
  const step: StepFn = (_label, _pitfall, right) => right().value;
  return t.solve(p, step);
}

function pickTemplate(rng: Rng): Template {
  const totalWeight = TEMPLATES.reduce((s, t) => s + t.weight, 0);
  let x = rng.next() * totalWeight;
  for (const t of TEMPLATES) {
    x -= t.weight;
    if (x < 0) return t;
  }
  const last = TEMPLATES[TEMPLATES.length - 1];
  if (!last) throw new Error("no templates");
  return last;
}

/** `count` distinct problems from `seed` (duplicates in wording are skipped). */
export function generateProblems(seed: number, count: number, idPrefix = `sim-${seed}`): SimProblem[] {
  const rng = createRng(hashParts("sim-generator", seed));
  const out: SimProblem[] = [];
  const seen = new Set<string>();
  for (let guard = 0; out.length < count && guard < count * 50; guard++) {
    const t = pickTemplate(rng);
    const params = t.gen(rng);
    const question = renderTemplate(t, params);
    if (seen.has(question)) continue;
    seen.add(question);
    out.push({
      id: `${idPrefix}-${String(out.length + 1).padStart(3, "0")}`,
      question,
      answer: fmt(trueAnswer(t, params)),
      pitfalls: [...t.pitfalls],
    });
  }
  return out;
}
