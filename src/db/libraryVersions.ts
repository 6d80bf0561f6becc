import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { ZERO_STATS } from "../core/credit";
import type { Experience } from "../core/library";
import { BoundedMap } from "../shared/boundedMap";
import type { Db } from "./client";
import { libraryItems, libraryVersions } from "./schema";

export type LibraryVersionRow = typeof libraryVersions.$inferSelect;

/** Items of a version in their stored order; version 0 is the empty library. */
export async function versionItems(d: Db, agentId: string, version: number): Promise<Experience[]> {
  if (version === 0) return [];
  const rows = await d
    .select()
    .from(libraryItems)
    .where(and(eq(libraryItems.agentId, agentId), eq(libraryItems.version, version)))
    .orderBy(asc(libraryItems.position))
    .all();
  return rows.map((r) => ({ id: r.itemId, name: r.name, text: r.text, provenance: r.provenance, stats: r.stats ?? { ...ZERO_STATS } }));
}

/**
 * Versions never change once written, so their items are kept per isolate: the rollout groups of a
 * batch all read the same pre-batch version. Only non-empty answers are kept (an empty one could be a
 * version not visible yet); at most IMMUTABLE_CACHE_SIZE versions, the oldest forgotten first.
 */
const IMMUTABLE_CACHE_SIZE = 32;
const itemsCache = new BoundedMap<string, Experience[]>(IMMUTABLE_CACHE_SIZE);

export async function cachedVersionItems(d: Db, agentId: string, version: number): Promise<Experience[]> {
  const key = `${agentId}:${version}`;
  const hit = itemsCache.get(key);
  if (hit) return hit;
  const items = await versionItems(d, agentId, version);
  if (items.length === 0) return items;
  itemsCache.set(key, items);
  return items;
}

export async function findVersion(d: Db, agentId: string, version: number): Promise<LibraryVersionRow | undefined> {
  return d
    .select()
    .from(libraryVersions)
    .where(and(eq(libraryVersions.agentId, agentId), eq(libraryVersions.version, version)))
    .get();
}

export async function findVersionByOrigin(d: Db, agentId: string, originKey: string): Promise<LibraryVersionRow | undefined> {
  return d
    .select()
    .from(libraryVersions)
    .where(and(eq(libraryVersions.agentId, agentId), eq(libraryVersions.originKey, originKey)))
    .get();
}

export async function listVersions(d: Db, agentId: string): Promise<LibraryVersionRow[]> {
  return d.select().from(libraryVersions).where(eq(libraryVersions.agentId, agentId)).orderBy(desc(libraryVersions.version)).all();
}

/** Highest item number the agent has ever used, so new ids are never reused across versions. */
export async function highestItemNumberEver(d: Db, agentId: string): Promise<number> {
  const row = await d
    .select({ n: sql<number>`coalesce(max(cast(substr(${libraryItems.itemId}, 2) as integer)), 0)` })
    .from(libraryItems)
    .where(eq(libraryItems.agentId, agentId))
    .get();
  return row?.n ?? 0;
}

export async function nextVersionNumber(d: Db, agentId: string): Promise<number> {
  const row = await d
    .select({ n: sql<number>`coalesce(max(${libraryVersions.version}), 0)` })
    .from(libraryVersions)
    .where(eq(libraryVersions.agentId, agentId))
    .get();
  return (row?.n ?? 0) + 1;
}

// 8 bound parameters per item row; D1 allows 100 per statement.
const ITEMS_PER_STATEMENT = 12;

export type NewVersion = {
  agentId: string;
  version: number;
  parentVersion: number | null;
  runId: string | null;
  originKey: string;
  note: string;
  /** The upstream model the library was learned with (docs/ownership.md); absent: unknown. */
  model?: string | null;
  source?: LibraryVersionRow["source"];
  author?: string | null;
};

/**
 * Statements that create an immutable version with its items. Callers run them in one `batch()`
 * together with whatever else must commit atomically with the version.
 */
export function versionStatements(d: Db, version: NewVersion, items: readonly Experience[]): BatchItem<"sqlite">[] {
  return [d.insert(libraryVersions).values({ ...version, itemCount: items.length }), ...itemStatements(d, version, items)];
}

function itemStatements(d: Db, version: { agentId: string; version: number }, items: readonly Experience[]): BatchItem<"sqlite">[] {
  const statements: BatchItem<"sqlite">[] = [];
  for (let i = 0; i < items.length; i += ITEMS_PER_STATEMENT) {
    const chunk = items.slice(i, i + ITEMS_PER_STATEMENT).map((item, j) => ({
      agentId: version.agentId,
      version: version.version,
      position: i + j,
      itemId: item.id,
      name: item.name,
      text: item.text,
      provenance: item.provenance,
      stats: item.stats ?? ZERO_STATS,
    }));
    statements.push(d.insert(libraryItems).values(chunk));
  }
  return statements;
}

/** The agent's library moved on (another version or new item ids) while a version was being written. */
export class VersionRaceError extends Error {}

/**
 * Writes a version made outside training (by hand or by import) in one D1 batch, on the condition that
 * no item number above `highestSeen` was issued meanwhile: the version row's origin key becomes NULL
 * otherwise, its NOT NULL constraint fails the batch, and nothing is written. A version number taken
 * meanwhile fails the batch the same way (primary key). Either is a VersionRaceError, for the caller
 * to read the library again and retry.
 */
export async function insertVersionIfUnchanged(
  d: Db,
  version: NewVersion,
  items: readonly Experience[],
  highestSeen: number,
): Promise<void> {
  const highestNow = sql`(select coalesce(max(cast(substr(${libraryItems.itemId}, 2) as integer)), 0) from ${libraryItems} where ${libraryItems.agentId} = ${version.agentId})`;
  const guarded = d.insert(libraryVersions).values({
    ...version,
    itemCount: items.length,
    originKey: sql`case when ${highestNow} <= ${highestSeen} then ${version.originKey} end`,
  });
  try {
    await d.batch([guarded, ...itemStatements(d, version, items)]);
  } catch (error) {
    if (error instanceof Error && /constraint failed/i.test(`${error.message} ${String(error.cause ?? "")}`)) {
      throw new VersionRaceError(
        `version ${version.version} of agent ${version.agentId} could not be written: the library changed meanwhile`,
      );
    }
    throw error;
  }
}
