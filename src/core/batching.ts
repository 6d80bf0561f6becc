/** 32-bit FNV-1a over UTF-16 code units: tiny, stable across runtimes, good enough for seeding. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A deterministic seed from its parts (run seed, epoch, sample, rollout index, …), so a resumed run
 * sends each rollout the same `seed`. Kept to 31 bits so providers that store seeds as signed int32
 * accept it. Parts are tagged with their type so "1" and 1 differ, and separated so ("ab","c") ≠ ("a","bc").
 */
export function deriveSeed(...parts: (string | number)[]): number {
  const key = parts.map((p) => `${typeof p === "number" ? "n" : "s"}${String(p)}`).join("\u001f");
  // A second mixing round so nearby inputs (epoch 1 vs 2) do not give nearby seeds.
  return mix32(hashString(key)) >>> 1;
}

function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: a small, fast PRNG with a 32-bit state; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A permutation of 0..count-1 determined by (seed, epoch) alone: a resumed run sees the same order,
 * and each epoch sees a different one. Fisher–Yates over mulberry32.
 */
export function seededShuffle(count: number, seed: number, epoch: number): number[] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`seededShuffle: count must be a non-negative integer, got ${count}`);
  const order = Array.from({ length: count }, (_, i) => i);
  const random = mulberry32(deriveSeed("shuffle", seed, epoch));
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  return order;
}

/** Consecutive batches of `batchSize`; the last one may be smaller. */
export function splitBatches<T>(items: readonly T[], batchSize: number): T[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`splitBatches: batchSize must be a positive integer, got ${batchSize}`);
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) batches.push(items.slice(i, i + batchSize));
  return batches;
}

/**
 * The samples of each batch of an epoch, in the order the run visits them: the training Workflow runs
 * this plan and recovery reads it back to find a batch's groups (docs/architecture.md §4).
 */
export function epochPlan(samples: number, seed: number, epoch: number, batchSize: number): number[][] {
  return splitBatches(seededShuffle(samples, seed, epoch), batchSize);
}

/**
 * The questions of each chunk of an evaluation: the evaluation Workflow spawns one instance per chunk,
 * and recovery looks up the same chunks.
 */
export function chunkPlan(questions: number, chunkSize: number): number[][] {
  return splitBatches(
    Array.from({ length: questions }, (_, i) => i),
    chunkSize,
  );
}
