/**
 * Seeded randomness for the simulated model. Everything random is derived from a string hash of the
 * inputs (never Math.random), so the same request gives the same reply byte for byte.
 */

/** cyrb53: fast 53-bit string hash, good enough spread for sampling (not cryptographic). */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Hash of several parts, joined unambiguously. */
export function hashParts(...parts: readonly (string | number)[]): number {
  return hash53(parts.map((p) => `${String(p).length}:${p}`).join("|"));
}

export function hashHex(...parts: readonly (string | number)[]): string {
  return hashParts(...parts)
    .toString(16)
    .padStart(14, "0");
}

/** A uniform draw in [0, 1) fixed by its key. */
export function unitFromKey(...parts: readonly (string | number)[]): number {
  return hashParts(...parts) / 2 ** 53;
}

export type Rng = {
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
};

/** mulberry32 stream seeded from a 53-bit hash. */
export function createRng(seed: number): Rng {
  let state = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error("pick from an empty list");
      return item;
    },
    chance: (p) => next() < p,
  };
}

export function rngFromKey(...parts: readonly (string | number)[]): Rng {
  return createRng(hashParts(...parts));
}
