/**
 * Maps with at most `limit` calls in flight, keeping the order of results. One Worker invocation may
 * have only 6 outbound connections open; more fetches just queue, so a bound of 6 wastes nothing.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Outbound connections one invocation may hold open. */
export const CONNECTIONS_PER_INVOCATION = 6;
