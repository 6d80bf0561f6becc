/**
 * Shares one piece of async work among the callers that ask for the same key while it runs: the first
 * caller starts it, later ones get the same promise, and the key is free again once it settles.
 */
export type SingleFlight<T> = {
  run(key: string, work: () => Promise<T>): Promise<T>;
  /** Later callers start afresh (work already running still settles for those waiting on it). */
  forget(matches: (key: string) => boolean): void;
};

export function singleFlight<T>(): SingleFlight<T> {
  const running = new Map<string, Promise<T>>();
  return {
    run(key, work) {
      const pending = running.get(key);
      if (pending) return pending;
      const started = work().finally(() => {
        if (running.get(key) === started) running.delete(key);
      });
      running.set(key, started);
      return started;
    },
    forget(matches) {
      for (const key of running.keys()) if (matches(key)) running.delete(key);
    },
  };
}
