import { deriveSeed } from "./batching";
import { bootstrapCI, groupMean, meanAtK, pairedBootstrapCI, passAtK } from "./metrics";

/**
 * Evaluation figures, pure: per version Mean@k, Pass@k and a bootstrap interval over questions; for
 * each version against the last one listed (the baseline), the paired difference and its interval.
 */

/** Version 0 is the empty library, written "none" in requests and reports. */
export const versionLabel = (v: number): string => (v === 0 ? "none" : `v${v}`);

export type Interval = { low: number; high: number };
export type VersionFigures = { version: number; label: string; questions: number; meanAtK: number; passAtK: number; ci: Interval };
export type Comparison = { version: number; against: number; diff: number; ci: Interval };
export type EvaluationFigures = { questions: number; k: number; versions: VersionFigures[]; comparisons: Comparison[] };

export const BOOTSTRAP_ITERATIONS = 2000;

/**
 * `rewards.get(version)` maps a question index to its k rewards. Only questions scored for every
 * version enter the figures, so that every comparison is paired on the same questions.
 */
export function evaluationFigures(
  versions: readonly number[],
  rewards: ReadonlyMap<number, ReadonlyMap<number, readonly number[]>>,
  k: number,
  seed: number,
): EvaluationFigures {
  const common = [...(rewards.get(versions[0] ?? 0)?.keys() ?? [])]
    .filter((q) => versions.every((v) => rewards.get(v)?.has(q)))
    .sort((a, b) => a - b);
  const perQuestion = (v: number) => common.map((q) => rewards.get(v)?.get(q) ?? []);
  const figures = versions.map((version) => {
    const groups = perQuestion(version);
    return {
      version,
      label: versionLabel(version),
      questions: groups.length,
      meanAtK: meanAtK(groups),
      passAtK: passAtK(groups),
      ci: bootstrapCI(groups.map(groupMean), { seed: deriveSeed(seed, "ci", version), iterations: BOOTSTRAP_ITERATIONS }),
    };
  });
  const baseline = versions[versions.length - 1];
  const comparisons: Comparison[] = [];
  if (baseline !== undefined && versions.length > 1) {
    const b = perQuestion(baseline).map(groupMean);
    for (const version of versions.slice(0, -1)) {
      const a = perQuestion(version).map(groupMean);
      comparisons.push({
        version,
        against: baseline,
        diff: groupMean(a) - groupMean(b),
        ci: pairedBootstrapCI(a, b, { seed: deriveSeed(seed, "paired", version, baseline), iterations: BOOTSTRAP_ITERATIONS }),
      });
    }
  }
  return { questions: common.length, k, versions: figures, comparisons };
}

/** Questions per child instance: one each up to 50 questions, then blocks so at most 50 children. */
export function defaultChunkSize(questions: number, maxChunks = 50): number {
  return Math.max(1, Math.ceil(questions / maxChunks));
}
