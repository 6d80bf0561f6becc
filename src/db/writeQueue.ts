import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";

/** Statements in one D1 batch at most: a batch is one transaction, and a group's writes stay far below this. */
const MAX_STATEMENTS_PER_BATCH = 50;

type Statements = readonly BatchItem<"sqlite">[];

export type WriteQueue = {
  /**
   * Queues statements, or statements still being made (a text going to R2 first); resolves once they are
   * committed. Writes commit in the order they were queued.
   */
  add(statements: Statements | Promise<Statements>): Promise<void>;
  /** Waits until everything queued is committed; throws the first failure. */
  settle(): Promise<void>;
};

/**
 * Group commit within one invocation (docs/architecture.md §4, §5): statements queued while a D1 batch is
 * in flight go together in the next one, in order. A rollout group queues each paid reply's write and
 * carries on with its next call, so D1 round trips leave the group's critical path; it settles the
 * queue before its step returns. After a failure every later write is refused too, so a write never
 * lands after one it depends on failed.
 */
export function writeQueue(d: Db): WriteQueue {
  type Entry = { statements: Promise<Statements>; resolve: () => void; reject: (error: unknown) => void };
  const pending: Entry[] = [];
  const queued: Promise<void>[] = [];
  let flushing = false;
  let failure: { error: unknown } | null = null;

  const flush = async () => {
    flushing = true;
    while (pending.length > 0) {
      const chunk: Entry[] = [];
      const statements: BatchItem<"sqlite">[] = [];
      try {
        // In order: an entry whose statements are still being made holds back the ones after it.
        while (pending.length > 0) {
          const next = pending[0] as Entry;
          const made = await next.statements;
          if (chunk.length > 0 && statements.length + made.length > MAX_STATEMENTS_PER_BATCH) break;
          pending.shift();
          chunk.push(next);
          statements.push(...made);
        }
        const [first, ...rest] = statements;
        if (first) await d.batch([first, ...rest]);
        for (const e of chunk) e.resolve();
      } catch (error) {
        failure = { error };
        for (const e of [...chunk, ...pending.splice(0)]) e.reject(error);
      }
    }
    flushing = false;
  };

  return {
    add(statements) {
      const made = Promise.resolve(statements);
      // A failure making them is reported through `done` (or not at all, after an earlier failure).
      made.catch(() => undefined);
      const done = new Promise<void>((resolve, reject) => {
        if (failure) reject(failure.error);
        else pending.push({ statements: made, resolve, reject });
      });
      // settle() reports the failure; a caller that does not wait for its own write must not see it unhandled.
      queued.push(done.catch(() => undefined));
      if (!flushing && !failure) void flush();
      return done;
    },
    async settle() {
      await Promise.all(queued);
      if (failure) throw failure.error;
    },
  };
}
