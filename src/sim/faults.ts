/**
 * Fault injection and latency knobs. Whether a request faults is a pure function of (seed, request
 * hash, attempt number), so a run is reproducible, yet a retry of the same request is a new attempt
 * and can get through; from attempt `maxFaultyAttempts + 1` on, a request never faults, so a client
 * that retries enough always succeeds. Faults never change the content of the successful reply.
 */
import { unitFromKey } from "./rng";

export const FAULT_KINDS = ["429", "500", "hang", "malformed", "truncate"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type Knobs = {
  latencyMs: number;
  jitterMs: number;
  faultRate: number;
  faults: readonly FaultKind[];
  /** How long a "hang" lasts before the reply is sent anyway (longer than a client timeout). */
  hangMs: number;
  /** Attempts 1..maxFaultyAttempts may fault; later attempts never do. */
  maxFaultyAttempts: number;
  /** Seconds in the Retry-After header of a 429. */
  retryAfterSeconds: number;
};

export const DEFAULT_KNOBS: Knobs = {
  latencyMs: 0,
  jitterMs: 0,
  faultRate: 0,
  faults: FAULT_KINDS,
  hangMs: 120_000,
  maxFaultyAttempts: 3,
  retryAfterSeconds: 1,
};

export function parseFaultKinds(text: string): FaultKind[] {
  const kinds = text
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s): s is FaultKind => (FAULT_KINDS as readonly string[]).includes(s));
  return kinds;
}

function num(v: string | null | undefined): number | undefined {
  if (v === null || v === undefined || v.trim() === "") return undefined;
  const x = Number(v);
  return Number.isFinite(x) && x >= 0 ? x : undefined;
}

/** Per-request overrides: query string (`latency_ms`, `jitter_ms`, `fault_rate`, `faults`, `hang_ms`) or `x-sim-*` headers (headers win). */
export function knobsFor(base: Knobs, url: URL, headers: Headers): Knobs {
  const get = (header: string, query: string): string | null => headers.get(header) ?? url.searchParams.get(query);
  const faults = get("x-sim-faults", "faults");
  return {
    ...base,
    latencyMs: num(get("x-sim-latency-ms", "latency_ms")) ?? base.latencyMs,
    jitterMs: num(get("x-sim-jitter-ms", "jitter_ms")) ?? base.jitterMs,
    faultRate: Math.min(1, num(get("x-sim-fault-rate", "fault_rate")) ?? base.faultRate),
    faults: faults !== null ? parseFaultKinds(faults) : base.faults,
    hangMs: num(get("x-sim-hang-ms", "hang_ms")) ?? base.hangMs,
  };
}

/** The fault (if any) for this attempt of this request. */
export function decideFault(knobs: Knobs, seed: number, requestHash: string, attempt: number): FaultKind | null {
  if (knobs.faults.length === 0 || knobs.faultRate <= 0 || attempt > knobs.maxFaultyAttempts) return null;
  if (unitFromKey("fault", seed, requestHash, attempt) >= knobs.faultRate) return null;
  const idx = Math.floor(unitFromKey("fault-kind", seed, requestHash, attempt) * knobs.faults.length);
  return knobs.faults[idx] ?? null;
}

/** Latency of this attempt: base ± jitter, deterministic. */
export function latencyFor(knobs: Knobs, seed: number, requestHash: string, attempt: number): number {
  const u = unitFromKey("latency", seed, requestHash, attempt);
  return Math.max(0, knobs.latencyMs + knobs.jitterMs * (2 * u - 1));
}
