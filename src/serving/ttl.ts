/**
 * How long a serving isolate trusts what it cached about a proxy key and its agent (key still valid,
 * agent config, active library version) before re-checking D1. From `LIBRARY_TTL_SECONDS`
 * (default 5, fractions allowed, 0 re-checks on every request); tests may override it.
 */
export const DEFAULT_TTL_SECONDS = 5;

let override: number | null = null;
let parsedFrom: string | undefined;
let parsedMs = DEFAULT_TTL_SECONDS * 1000;

/** For tests: force a TTL in seconds in this isolate (null restores the env value). */
export function setServingTtlOverride(seconds: number | null): void {
  override = seconds;
}

export function servingTtlMs(env: Pick<Env, "LIBRARY_TTL_SECONDS">): number {
  if (override !== null) return override * 1000;
  const raw = env.LIBRARY_TTL_SECONDS;
  if (raw !== parsedFrom) {
    parsedFrom = raw;
    const seconds = raw === undefined || raw.trim() === "" ? Number.NaN : Number(raw);
    parsedMs = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_TTL_SECONDS * 1000;
  }
  return parsedMs;
}
