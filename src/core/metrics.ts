import { deriveSeed, mulberry32 } from "./batching";

/** Mean of one group's rewards; 0 for an empty group (nothing observed, nothing earned). */
export function groupMean(rewards: readonly number[]): number {
  if (rewards.length === 0) return 0;
  let sum = 0;
  for (const r of rewards) sum += r;
  return sum / rewards.length;
}

/**
 * Mean@k: the average over questions of the average reward of each question's k samples.
 * Questions with no samples are left out (they have no mean); 0 when there are no questions.
 */
export function meanAtK(rewards: readonly (readonly number[])[]): number {
  const groups = rewards.filter((g) => g.length > 0);
  return groups.length === 0 ? 0 : groupMean(groups.map(groupMean));
}

/**
 * Pass@k: the share of questions with at least one sample whose reward reaches `threshold`.
 * With binary rewards the default threshold 1 means "at least one success"; for graded rewards in
 * [0,1] pass the score that counts as solved. 0 when there are no questions.
 */
export function passAtK(rewards: readonly (readonly number[])[], threshold = 1): number {
  if (rewards.length === 0) return 0;
  const passed = rewards.filter((g) => g.some((r) => r >= threshold)).length;
  return passed / rewards.length;
}

/**
 * Whether a group carries a learning signal: its rewards are not all equal (for binary rewards this
 * is 0 < mean < 1). A group of fewer than two rewards has nothing to compare.
 */
export function hasSignal(rewards: readonly number[]): boolean {
  if (rewards.length < 2) return false;
  const first = rewards[0] as number;
  // Tolerance so graded rewards that differ only by float noise do not count as signal.
  return rewards.some((r) => Math.abs(r - first) > 1e-9);
}

export type BootstrapOptions = { iterations?: number; seed: number; level?: number };

/**
 * Percentile bootstrap confidence interval of the mean of per-question scores. Deterministic for a
 * given seed so reports are reproducible. Empty input gives {0, 0}.
 */
export function bootstrapCI(perQuestion: readonly number[], opts: BootstrapOptions): { low: number; high: number } {
  const n = perQuestion.length;
  if (n === 0) return { low: 0, high: 0 };
  const iterations = opts.iterations ?? 2000;
  const level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new Error(`bootstrapCI: level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new Error(`bootstrapCI: iterations must be a positive integer, got ${iterations}`);
  const random = mulberry32(deriveSeed("bootstrap", opts.seed));
  const means = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += perQuestion[Math.floor(random() * n)] as number;
    means[it] = sum / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  return { low: quantile(means, tail), high: quantile(means, 1 - tail) };
}

/**
 * Paired bootstrap CI of mean(a − b) over the same questions (e.g. a = candidate library,
 * b = baseline): resampling questions keeps each pair together, which is what makes it tighter
 * than comparing two independent intervals.
 */
export function pairedBootstrapCI(a: readonly number[], b: readonly number[], opts: BootstrapOptions): { low: number; high: number } {
  if (a.length !== b.length) throw new Error(`pairedBootstrapCI: a has ${a.length} scores, b has ${b.length}; they must be paired`);
  return bootstrapCI(
    a.map((x, i) => x - (b[i] as number)),
    opts,
  );
}

/** Linear-interpolated quantile of a sorted array (type 7, as in R and numpy's default). */
function quantile(sorted: Float64Array, p: number): number {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}
