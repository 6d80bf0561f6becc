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

/** A counting semaphore: `run` waits for one of `slots` to be free, then holds it until `fn` settles. */
export type Slots = { run<T>(fn: () => Promise<T>): Promise<T>; readonly waiting: number; readonly busy: number };

export function slots(count: number): Slots {
  let busy = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else busy--;
  };
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (busy < count) busy++;
      else await new Promise<void>((resolve) => queue.push(resolve));
      try {
        return await fn();
      } finally {
        release();
      }
    },
    get waiting() {
      return queue.length;
    },
    get busy() {
      return busy;
    },
  };
}
