import { and, asc, eq, lt, sql } from "drizzle-orm";
import { newId } from "../shared/ids";
import { describeRowIssues, newSplitter, RowChunker, RowValidator, type UploadFormat } from "../core/datasetRows";
import type { Db } from "./client";
import { datasets, runs, samples } from "./schema";

export type DatasetRow = typeof datasets.$inferSelect;
export type SampleRecord = typeof samples.$inferSelect;

/** An upload left 'loading' this long is taken to be dead (its isolate was killed) and is removed. */
export const STALE_LOADING_MS = 60 * 60 * 1000;

const isReady = eq(datasets.state, "ready");

/** A ready data set by id or name (ids win); uploads still loading are invisible. */
export async function findDataset(d: Db, ref: string): Promise<DatasetRow | undefined> {
  return (
    (await d
      .select()
      .from(datasets)
      .where(and(eq(datasets.id, ref), isReady))
      .get()) ??
    (await d
      .select()
      .from(datasets)
      .where(and(eq(datasets.name, ref), isReady))
      .get())
  );
}

export async function listDatasets(d: Db): Promise<DatasetRow[]> {
  return d.select().from(datasets).where(isReady).orderBy(asc(datasets.createdAt), asc(datasets.id)).all();
}

/** Samples of a data set in upload order. */
export async function samplesPage(d: Db, datasetId: string, offset: number, limit: number): Promise<SampleRecord[]> {
  return d.select().from(samples).where(eq(samples.datasetId, datasetId)).orderBy(asc(samples.idx)).limit(limit).offset(offset).all();
}

/** Runs of any status that refer to the data set (their foreign key forbids deleting it). */
export async function runsUsingDataset(d: Db, datasetId: string): Promise<number> {
  const row = await d.select({ n: sql<number>`count(*)` }).from(runs).where(eq(runs.datasetId, datasetId)).get();
  return row?.n ?? 0;
}

/** Deletes a data set and its samples atomically (one D1 batch). */
export async function deleteDataset(d: Db, id: string): Promise<void> {
  await d.batch([d.delete(samples).where(eq(samples.datasetId, id)), d.delete(datasets).where(eq(datasets.id, id))]);
}

/** Removes uploads that were left 'loading' by an isolate that died mid-upload. */
export async function purgeStaleLoading(d: Db, now = Date.now()): Promise<void> {
  const cutoff = new Date(now - STALE_LOADING_MS).toISOString();
  const stale = and(eq(datasets.state, "loading"), lt(datasets.createdAt, cutoff));
  await d.batch([
    d.delete(samples).where(sql`${samples.datasetId} in (select ${datasets.id} from ${datasets} where ${stale})`),
    d.delete(datasets).where(stale),
  ]);
}

export type DatasetMeta = { name: string; source: DatasetRow["source"]; description: string; attribution: string | null };

export type CreateDatasetOutcome =
  | { ok: true; dataset: DatasetRow }
  | { ok: false; reason: "name_taken" }
  | { ok: false; reason: "empty" }
  | { ok: false; reason: "invalid_rows"; message: string; duplicatesOnly: boolean };

/** Inserts one chunk (a JSON array of encoded rows, see encodeRow) as a single statement with two bound values. */
async function insertChunk(d: Db, datasetId: string, chunk: string): Promise<void> {
  await d.run(sql`
    insert into samples (dataset_id, idx, sample_id, question, answer, extras)
    select ${datasetId}, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
           json_extract(value, '$[3]'), json_extract(value, '$[4]')
    from json_each(${chunk})`);
}

async function discard(d: Db, datasetId: string): Promise<void> {
  await d.batch([
    d.delete(samples).where(eq(samples.datasetId, datasetId)),
    d.delete(datasets).where(and(eq(datasets.id, datasetId), eq(datasets.state, "loading"))),
  ]);
}

/**
 * The one way data sets are created (uploads and built-ins alike). `text` is the body as decoded
 * text in any number of pieces; it is split, validated and written chunk by chunk while it arrives,
 * so memory stays small however large the upload.
 *
 * Atomicity without a transaction: the data set row is written first as 'loading' (invisible to every
 * read path, but holding the name), samples follow in chunks, and one final statement flips it to
 * 'ready' only if exactly the expected number of samples is stored. Any invalid row, any error
 * (including one thrown by `text`, e.g. a size limit) deletes everything written and stores nothing.
 * Errors thrown by `text` or by the splitter (MalformedBody) are rethrown after that clean-up.
 * The name is claimed before `text` is first read, so a taken name costs no body reading; a name
 * stays taken while its upload is loading.
 */
export async function createDataset(
  d: Db,
  meta: DatasetMeta,
  format: UploadFormat,
  text: AsyncIterable<string>,
): Promise<CreateDatasetOutcome> {
  await purgeStaleLoading(d);
  const [created] = await d
    .insert(datasets)
    .values({ id: newId("ds"), ...meta, state: "loading", sampleCount: 0 })
    .onConflictDoNothing({ target: datasets.name })
    .returning({ id: datasets.id });
  if (!created) return { ok: false, reason: "name_taken" };
  const datasetId = created.id;

  try {
    const splitter = newSplitter(format);
    const validator = new RowValidator();
    const chunker = new RowChunker();
    const take = async (raws: ReturnType<typeof splitter.push>) => {
      for (const raw of raws) {
        const accepted = validator.accept(raw);
        // Once a row is invalid nothing more is written, but every row is still checked and reported.
        if (!accepted || !validator.ok) continue;
        const chunk = chunker.add(accepted.encoded);
        if (chunk) await insertChunk(d, datasetId, chunk);
      }
    };
    for await (const piece of text) await take(splitter.push(piece));
    await take(splitter.finish());

    if (!validator.ok) {
      await discard(d, datasetId);
      return {
        ok: false,
        reason: "invalid_rows",
        message: describeRowIssues(validator, format),
        duplicatesOnly: validator.duplicateCount === validator.issueCount,
      };
    }
    if (validator.rowCount === 0) {
      await discard(d, datasetId);
      return { ok: false, reason: "empty" };
    }
    const last = chunker.flush();
    if (last) await insertChunk(d, datasetId, last);

    const n = validator.rowCount;
    const flipped = await d
      .update(datasets)
      .set({ state: "ready", sampleCount: n })
      .where(
        and(
          eq(datasets.id, datasetId),
          eq(datasets.state, "loading"),
          sql`(select count(*) from ${samples} where ${samples.datasetId} = ${datasetId}) = ${n}`,
        ),
      )
      .returning();
    const dataset = flipped[0];
    if (!dataset) throw new Error(`data set ${datasetId}: stored sample count does not match the ${n} rows read`);
    return { ok: true, dataset };
  } catch (e) {
    try {
      await discard(d, datasetId);
    } catch (cleanupError) {
      // Left 'loading', it stays invisible and purgeStaleLoading removes it later.
      console.error(
        `data set ${datasetId}: clean-up after a failed upload failed: ${cleanupError instanceof Error ? cleanupError.message : String(cleanupError)}`,
      );
    }
    throw e;
  }
}

/** The sample at position `idx` of a data set (positions are 0-based, in upload order). */
export async function sampleAt(d: Db, datasetId: string, idx: number): Promise<SampleRecord | undefined> {
  return sampleQuery(d, datasetId, idx).get();
}

/** sampleAt as a query (zero or one row), to run in a D1 batch with others. */
export function sampleQuery(d: Db, datasetId: string, idx: number) {
  return d
    .select()
    .from(samples)
    .where(and(eq(samples.datasetId, datasetId), eq(samples.idx, idx)))
    .limit(1);
}

export async function datasetSampleCount(d: Db, datasetId: string): Promise<number> {
  const row = await d.select({ n: sql<number>`count(*)` }).from(samples).where(eq(samples.datasetId, datasetId)).get();
  return row?.n ?? 0;
}

/** Samples of a data set that carry no answer (unlabelled: usable only without ground truth). */
export async function unlabelledSampleCount(d: Db, datasetId: string): Promise<number> {
  const row = await d
    .select({ n: sql<number>`count(*)` })
    .from(samples)
    .where(and(eq(samples.datasetId, datasetId), sql`trim(${samples.answer}) = ''`))
    .get();
  return row?.n ?? 0;
}
