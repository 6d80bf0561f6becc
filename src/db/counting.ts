import { envString } from "../shared/env";

/**
 * Counts D1 round trips made through a wrapped binding, so a benchmark can report queries per request
 * honestly (enabled by the `DEBUG_COUNT_D1=1` var on the serving path, see serving/proxyAuth.ts, and in the
 * training Workflows).
 * Counts are per isolate: `reads` are executed SELECT statements, `writes` any other statement,
 * `roundTrips` calls that reach D1 (one per statement executed alone, one per `batch()`).
 */
export type D1Counts = { roundTrips: number; reads: number; writes: number; batches: number };

const counts: D1Counts = { roundTrips: 0, reads: 0, writes: 0, batches: 0 };

export function d1Counts(): D1Counts {
  return { ...counts };
}

export function resetD1Counts(): void {
  counts.roundTrips = counts.reads = counts.writes = counts.batches = 0;
}

const EXECUTE = new Set(["first", "all", "run", "raw"]);
const isRead = (query: string) => /^\s*(select|with)\b/i.test(query);

/** The real statement and SQL behind each wrapper (`batch()` only accepts real statements). */
const unwrap = new WeakMap<object, { real: D1PreparedStatement; query: string }>();

function countStatement(query: string): void {
  if (isRead(query)) counts.reads++;
  else counts.writes++;
}

function wrapStatement(statement: D1PreparedStatement, query: string): D1PreparedStatement {
  const wrapper = new Proxy(statement, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "bind") {
        return (...args: unknown[]) => wrapStatement(target.bind(...args), query);
      }
      if (typeof prop === "string" && EXECUTE.has(prop)) {
        return (...args: unknown[]) => {
          counts.roundTrips++;
          countStatement(query);
          return Reflect.apply(value, target, args);
        };
      }
      return value.bind(target);
    },
  });
  unwrap.set(wrapper, { real: statement, query });
  return wrapper;
}

export function countingD1(database: D1Database): D1Database {
  return new Proxy(database, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop === "prepare") {
        return (query: string) => wrapStatement(target.prepare(query), query);
      }
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          counts.roundTrips++;
          counts.batches++;
          for (const s of statements) countStatement(unwrap.get(s)?.query ?? "");
          return target.batch(statements.map((s) => unwrap.get(s)?.real ?? s));
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The environment with its D1 binding counted; one wrapper per environment object, not per request. */
const countedEnvs = new WeakMap<Env, Env>();

export function countingEnv(env: Env): Env {
  let counted = countedEnvs.get(env);
  if (!counted) {
    counted = { ...env, DB: countingD1(env.DB) };
    countedEnvs.set(env, counted);
  }
  return counted;
}

/**
 * The environment with D1 counted when the Worker runs with `DEBUG_COUNT_D1=1` (the benchmarks: the
 * training Workflows count their statements too), else as it is.
 */
export function countedWhenDebugging(env: Env): Env {
  return envString(env, "DEBUG_COUNT_D1") === "1" ? countingEnv(env) : env;
}
