import { and, eq, isNull, lt } from "drizzle-orm";
import type { Db } from "./client";
import { idempotencyKeys } from "./schema";

/** How long answers are kept (the cron trigger purges older ones). */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60_000;

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

/**
 * Claims (route, key) for the request with this body hash: true for exactly one caller. A claim left
 * unanswered since `staleBefore` (its request died) is taken over.
 */
export async function claimIdempotencyKey(d: Db, route: string, key: string, requestHash: string, staleBefore: string): Promise<boolean> {
  const inserted = await d
    .insert(idempotencyKeys)
    .values({ route, key, requestHash })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted.length === 1) return true;
  const taken = await d
    .update(idempotencyKeys)
    .set({ requestHash, createdAt: new Date().toISOString() })
    .where(
      and(
        eq(idempotencyKeys.route, route),
        eq(idempotencyKeys.key, key),
        isNull(idempotencyKeys.status),
        lt(idempotencyKeys.createdAt, staleBefore),
      ),
    )
    .returning({ key: idempotencyKeys.key });
  return taken.length === 1;
}

export async function findIdempotencyKey(d: Db, route: string, key: string): Promise<IdempotencyRow | undefined> {
  return d
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.route, route), eq(idempotencyKeys.key, key)))
    .get();
}

export async function storeIdempotentResponse(d: Db, route: string, key: string, status: number, response: unknown): Promise<void> {
  await d
    .update(idempotencyKeys)
    .set({ status, response })
    .where(and(eq(idempotencyKeys.route, route), eq(idempotencyKeys.key, key)));
}

/** Gives a claim back (the request failed: a retry may try again). */
export async function releaseIdempotencyKey(d: Db, route: string, key: string): Promise<void> {
  await d
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.route, route), eq(idempotencyKeys.key, key), isNull(idempotencyKeys.status)));
}

/** Deletes keys older than `before` (answered or abandoned); returns how many. */
export async function purgeIdempotencyKeys(d: Db, before: string): Promise<number> {
  const gone = await d.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before)).returning({ key: idempotencyKeys.key });
  return gone.length;
}
