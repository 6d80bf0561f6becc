/**
 * What the simulated model has seen, per scope: how many attempts each request has had (the attempt
 * number decides faults), how many requests each call received, and how many faults of each kind were
 * injected. A scope is one client's view of the model — by default the base URL's path before
 * `/chat/completions` plus the fault and latency knobs it set — so two agents (or two knob sets) used at
 * the same time, with the same prompts and seeds, neither share attempt counters nor mix their counts.
 */
import { FAULT_KINDS, type FaultKind, type Knobs } from "./faults";

export type FaultCounts = Record<FaultKind, number>;

/** One call as the model saw it: `callKey` is also the id of its reply (`chatcmpl-sim-<callKey>`). */
export type CallRecord = {
  scope: string;
  callKey: string;
  /** The reflection stage, or `rollout` for everything else. */
  stage: string;
  seed: number;
  /** Requests received for this call, faulted or not. */
  requests: number;
  /** Requests given no fault: answered with the intact reply, unless the client left first. */
  replies: number;
  faults: FaultCounts;
  /** Sequence numbers (see `SimLedger.seq`) of the first and the last request. */
  firstSeq: number;
  lastSeq: number;
};

export type ScopeStats = {
  scope: string;
  knobs: Pick<Knobs, "faultRate" | "faults" | "latencyMs" | "jitterMs" | "hangMs">;
  /** Chat requests received (valid ones). */
  requests: number;
  /** Distinct calls requested. */
  calls: number;
  /** Requests that were the first attempt of their request. */
  firstAttempts: number;
  /** Requests given no fault: answered with the intact reply, unless the client left first. */
  replies: number;
  faults: FaultCounts;
  /** Faults injected on first attempts: divided by `firstAttempts`, the observed fault rate. */
  firstAttemptFaults: FaultCounts;
};

export type Attempt = {
  scope: string;
  knobs: Knobs;
  callKey: string;
  stage: string;
  seed: number;
  attempt: number;
  fault: FaultKind | null;
};

const zeroFaults = (): FaultCounts => Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as FaultCounts;

/** Bounded memory for a long-running server: the oldest entries are forgotten first. */
const MAX_ENTRIES = 50_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.set(key, value);
  if (map.size > MAX_ENTRIES) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

/** The scope of a request: an explicit `x-sim-scope` header or `scope` query parameter, else path prefix + knobs set. */
export function scopeOf(url: URL, headers: Headers): string {
  const explicit = headers.get("x-sim-scope") ?? url.searchParams.get("scope");
  if (explicit) return explicit;
  const prefix = url.pathname.replace(/\/+$/, "").replace(/\/chat\/completions$/, "");
  const knobs: string[] = [];
  for (const name of ["fault_rate", "faults", "hang_ms", "jitter_ms", "latency_ms"]) {
    const value = headers.get(`x-sim-${name.replace(/_/g, "-")}`) ?? url.searchParams.get(name);
    if (value !== null) knobs.push(`${name}=${value}`);
  }
  return knobs.length > 0 ? `${prefix}?${knobs.join("&")}` : prefix;
}

export class SimLedger {
  private readonly attempts = new Map<string, number>();
  private readonly calls = new Map<string, CallRecord>();
  private readonly scopes = new Map<string, ScopeStats & { callKeys: Set<string> }>();
  private sequence = 0;

  /** Number of requests recorded so far; a request's `seq` is its 1-based position. */
  get seq(): number {
    return this.sequence;
  }

  /** Counts one more attempt of an exact request within its scope, returning its attempt number. */
  nextAttempt(scope: string, requestHash: string): number {
    const key = `${scope}\u0000${requestHash}`;
    const n = (this.attempts.get(key) ?? 0) + 1;
    remember(this.attempts, key, n);
    return n;
  }

  record(a: Attempt): void {
    const seq = ++this.sequence;
    let scope = this.scopes.get(a.scope);
    if (!scope) {
      const { faultRate, faults, latencyMs, jitterMs, hangMs } = a.knobs;
      scope = {
        scope: a.scope,
        knobs: { faultRate, faults: [...faults], latencyMs, jitterMs, hangMs },
        requests: 0,
        calls: 0,
        firstAttempts: 0,
        replies: 0,
        faults: zeroFaults(),
        firstAttemptFaults: zeroFaults(),
        callKeys: new Set(),
      };
      this.scopes.set(a.scope, scope);
    }
    scope.requests++;
    if (!scope.callKeys.has(a.callKey)) {
      scope.callKeys.add(a.callKey);
      scope.calls++;
    }
    if (a.attempt === 1) scope.firstAttempts++;
    if (a.fault) {
      scope.faults[a.fault]++;
      if (a.attempt === 1) scope.firstAttemptFaults[a.fault]++;
    } else scope.replies++;

    const key = `${a.scope}\u0000${a.callKey}`;
    const call = this.calls.get(key) ?? {
      scope: a.scope,
      callKey: a.callKey,
      stage: a.stage,
      seed: a.seed,
      requests: 0,
      replies: 0,
      faults: zeroFaults(),
      firstSeq: seq,
      lastSeq: seq,
    };
    call.requests++;
    call.lastSeq = seq;
    if (a.fault) call.faults[a.fault]++;
    else call.replies++;
    remember(this.calls, key, call);
  }

  stats(): ScopeStats[] {
    return [...this.scopes.values()].map(({ callKeys: _keys, ...s }) => ({
      ...s,
      faults: { ...s.faults },
      firstAttemptFaults: { ...s.firstAttemptFaults },
    }));
  }

  /** The per-call request log, oldest first, optionally of one scope. */
  callLog(scope?: string): CallRecord[] {
    const out: CallRecord[] = [];
    for (const c of this.calls.values()) if (scope === undefined || c.scope === scope) out.push({ ...c, faults: { ...c.faults } });
    return out;
  }
}
