import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { batches, groups, rollouts, runs } from "./schema";
import { readText, storeText, type TextReader, type TextWriter } from "./texts";

/** A rollout as D1 holds it (its texts may be in R2): read its texts with readRollouts. */
type RolloutRecord = typeof rollouts.$inferSelect;
type TextColumns = `${"response" | "critique" | "summary" | "messages"}${"Inline" | "Ref"}`;
type Trajectory = Record<string, unknown>[];

/** A rollout with its texts, wherever they are stored. */
export type RolloutRow = Omit<RolloutRecord, TextColumns> & {
  response: string;
  critique: string | null;
  summary: string | null;
  messages: Trajectory | null;
};
export type NewRollout = Omit<RolloutRow, "summary" | "toolCalls"> & { toolCalls?: number };
/** A group outcome as D1 holds it: read its advantage with groupAdvantage. */
export type GroupRow = typeof groups.$inferSelect;
export type BatchRow = typeof batches.$inferSelect;

const rolloutPath = (r: { epoch: number; sampleIdx: number; rolloutIdx: number }, field: string) =>
  `rollout/e${r.epoch}/s${r.sampleIdx}/r${r.rolloutIdx}/${field}`;

/** A rollout row as D1 stores it: its long texts written to R2 first (src/db/texts.ts). */
async function rolloutRecord(texts: TextWriter, { response, critique, messages, ...row }: NewRollout) {
  const [r, c, m] = await Promise.all([
    storeText(texts, rolloutPath(row, "response"), response),
    critique === null ? null : storeText(texts, rolloutPath(row, "critique"), critique),
    messages === null ? null : storeText(texts, rolloutPath(row, "messages"), JSON.stringify(messages)),
  ]);
  return {
    ...row,
    responseInline: r.inline ?? "",
    responseRef: r.ref,
    critiqueInline: c?.inline ?? null,
    critiqueRef: c?.ref ?? null,
    messagesInline: m && m.ref === null ? messages : null,
    messagesRef: m?.ref ?? null,
  };
}

/**
 * Rollouts are keyed by (run, epoch, sample, rollout): a replay inserts nothing new. Long texts go to
 * R2 first (src/db/texts.ts); a reply already there as its call's reply is referred to, not copied.
 */
export async function insertRollouts(d: Db, texts: TextWriter, rows: readonly NewRollout[]): Promise<void> {
  const records = await Promise.all(rows.map((row) => rolloutRecord(texts, row)));
  // 16 columns per row; D1 allows 100 bound parameters per statement.
  for (let i = 0; i < records.length; i += 6)
    await d
      .insert(rollouts)
      .values(records.slice(i, i + 6))
      .onConflictDoNothing();
}

/**
 * One rollout row (its long texts already in R2), to be written in the same D1 batch as the call that
 * produced it (src/training/group.ts). In an array: a query returned from an async function would run.
 */
export async function rolloutStatements(d: Db, texts: TextWriter, row: NewRollout) {
  const record = await rolloutRecord(texts, row);
  return [d.insert(rollouts).values(record).onConflictDoNothing()] as const;
}

/** The texts of stored rollouts, read through readText (R2 objects once each, in parallel). */
export async function readRollouts(texts: TextReader, records: readonly RolloutRecord[]): Promise<RolloutRow[]> {
  return Promise.all(
    records.map(async (rec) => {
      const { responseInline, responseRef, critiqueInline, critiqueRef, summaryInline, summaryRef, messagesInline, messagesRef, ...row } =
        rec;
      const [response, critique, summary, messages] = await Promise.all([
        readText(texts, { inline: responseInline, ref: responseRef }),
        readText(texts, { inline: critiqueInline, ref: critiqueRef }),
        readText(texts, { inline: summaryInline, ref: summaryRef }),
        messagesRef ? readText(texts, { inline: null, ref: messagesRef }) : null,
      ]);
      return {
        ...row,
        response: response ?? "",
        critique,
        summary,
        messages: messages === null ? messagesInline : (JSON.parse(messages) as Trajectory),
      };
    }),
  );
}

/** Stores the summaries of one group's rollouts in one round trip (long ones in R2 first). */
export async function setRolloutSummaries(
  d: Db,
  texts: TextWriter,
  group: { runId: string; epoch: number; sampleIdx: number },
  summaries: readonly { rolloutIdx: number; summary: string }[],
): Promise<void> {
  const [first, ...rest] = (
    await Promise.all(summaries.map(({ rolloutIdx, summary }) => rolloutSummaryStatements(d, texts, { ...group, rolloutIdx }, summary)))
  ).flat();
  if (first) await d.batch([first, ...rest]);
}

/** One rollout's summary (a long one in R2 first), to be written in the same D1 batch as the summary call; in an array, as above. */
export async function rolloutSummaryStatements(
  d: Db,
  texts: TextWriter,
  at: { runId: string; epoch: number; sampleIdx: number; rolloutIdx: number },
  summary: string,
) {
  const text = await storeText(texts, rolloutPath(at, "summary"), summary);
  const update = d
    .update(rollouts)
    .set({ summaryInline: text.inline, summaryRef: text.ref })
    .where(
      and(
        eq(rollouts.runId, at.runId),
        eq(rollouts.epoch, at.epoch),
        eq(rollouts.sampleIdx, at.sampleIdx),
        eq(rollouts.rolloutIdx, at.rolloutIdx),
      ),
    );
  return [update] as const;
}

/** A group's rollout records in order (texts not read: see readRollouts), as a query to run alone or in a D1 batch. */
export function groupRolloutsQuery(d: Db, runId: string, epoch: number, sampleIdx: number) {
  return d
    .select()
    .from(rollouts)
    .where(and(eq(rollouts.runId, runId), eq(rollouts.epoch, epoch), eq(rollouts.sampleIdx, sampleIdx)))
    .orderBy(asc(rollouts.rolloutIdx));
}

/** One group's rollouts with their texts. */
export async function groupRollouts(d: Db, texts: TextReader, runId: string, epoch: number, sampleIdx: number): Promise<RolloutRow[]> {
  return readRollouts(texts, await groupRolloutsQuery(d, runId, epoch, sampleIdx).all());
}

/** One group's rewards (no texts). */
export async function groupRewards(d: Db, runId: string, epoch: number, sampleIdx: number): Promise<number[]> {
  const rows = await d
    .select({ reward: rollouts.reward })
    .from(rollouts)
    .where(and(eq(rollouts.runId, runId), eq(rollouts.epoch, epoch), eq(rollouts.sampleIdx, sampleIdx)))
    .orderBy(asc(rollouts.rolloutIdx))
    .all();
  return rows.map((r) => r.reward);
}

export async function listRollouts(
  d: Db,
  texts: TextReader,
  runId: string,
  filter: { epoch?: number; batch?: number; sample?: number; offset: number; limit: number },
): Promise<RolloutRow[]> {
  const conditions = [eq(rollouts.runId, runId)];
  if (filter.epoch !== undefined) conditions.push(eq(rollouts.epoch, filter.epoch));
  if (filter.batch !== undefined) conditions.push(eq(rollouts.batch, filter.batch));
  if (filter.sample !== undefined) conditions.push(eq(rollouts.sampleIdx, filter.sample));
  const records = await d
    .select()
    .from(rollouts)
    .where(and(...conditions))
    .orderBy(asc(rollouts.epoch), asc(rollouts.batch), asc(rollouts.sampleIdx), asc(rollouts.rolloutIdx))
    .limit(filter.limit)
    .offset(filter.offset)
    .all();
  return readRollouts(texts, records);
}

export type NewGroup = Omit<typeof groups.$inferInsert, "advantageInline" | "advantageRef"> & { advantage?: string | null };

/**
 * The first recorded outcome of a group stands; replays cannot change it. The run's `updated_at` moves
 * with it, so stall detection sees progress within a long batch, not only at batch boundaries. A long
 * advantage text goes to R2 first.
 */
export async function recordGroup(d: Db, texts: TextWriter, group: NewGroup): Promise<void> {
  await d.batch(await recordGroupStatements(d, texts, group));
}

/** recordGroup's statements (its advantage already in R2), to be written in one D1 batch, with the call that decided the outcome when there is one. */
export async function recordGroupStatements(d: Db, texts: TextWriter, group: NewGroup) {
  const { advantage, ...row } = group;
  const stored =
    advantage === null || advantage === undefined
      ? { inline: null, ref: null }
      : await storeText(texts, `group/e${row.epoch}/s${row.sampleIdx}/advantage`, advantage);
  return [
    d
      .insert(groups)
      .values({ ...row, advantageInline: stored.inline, advantageRef: stored.ref })
      .onConflictDoNothing(),
    d.update(runs).set({ updatedAt: new Date().toISOString() }).where(eq(runs.id, row.runId)),
  ] as const;
}

/** The group advantage text of a stored group outcome. */
export async function groupAdvantage(texts: TextReader, row: GroupRow): Promise<string | null> {
  return readText(texts, { inline: row.advantageInline, ref: row.advantageRef });
}

/** A group's recorded outcome (zero or one row), as a query to run alone or in a D1 batch. */
export function groupQuery(d: Db, runId: string, epoch: number, sampleIdx: number) {
  return d
    .select()
    .from(groups)
    .where(and(eq(groups.runId, runId), eq(groups.epoch, epoch), eq(groups.sampleIdx, sampleIdx)))
    .limit(1);
}

export async function findGroup(d: Db, runId: string, epoch: number, sampleIdx: number): Promise<GroupRow | undefined> {
  return groupQuery(d, runId, epoch, sampleIdx).get();
}

export async function batchGroups(d: Db, runId: string, epoch: number, batch: number): Promise<GroupRow[]> {
  return d
    .select()
    .from(groups)
    .where(and(eq(groups.runId, runId), eq(groups.epoch, epoch), eq(groups.batch, batch)))
    .orderBy(asc(groups.sampleIdx))
    .all();
}

export async function findBatch(d: Db, runId: string, epoch: number, batch: number): Promise<BatchRow | undefined> {
  return d
    .select()
    .from(batches)
    .where(and(eq(batches.runId, runId), eq(batches.epoch, epoch), eq(batches.batch, batch)))
    .get();
}

export async function runBatches(d: Db, runId: string): Promise<BatchRow[]> {
  return d.select().from(batches).where(eq(batches.runId, runId)).orderBy(asc(batches.epoch), asc(batches.batch)).all();
}

export function insertBatchStatement(d: Db, row: typeof batches.$inferInsert) {
  return d.insert(batches).values(row).onConflictDoNothing();
}

export type RunCounts = { rollouts: number; groupsKept: number; groupsSkipped: number; groupsDropped: number };

export async function runCounts(d: Db, runId: string): Promise<RunCounts> {
  const [r, g] = await d.batch([
    d.select({ n: sql<number>`count(*)` }).from(rollouts).where(eq(rollouts.runId, runId)),
    d.select({ status: groups.status, n: sql<number>`count(*)` }).from(groups).where(eq(groups.runId, runId)).groupBy(groups.status),
  ]);
  const by = (s: string) => g.find((x) => x.status === s)?.n ?? 0;
  return { rollouts: r[0]?.n ?? 0, groupsKept: by("kept"), groupsSkipped: by("skipped"), groupsDropped: by("dropped") };
}

/** A run's recorded group outcomes, optionally of one epoch and batch, in (epoch, batch, sample) order. */
export async function listGroups(d: Db, runId: string, filter: { epoch?: number; batch?: number; sample?: number }): Promise<GroupRow[]> {
  const conditions = [eq(groups.runId, runId)];
  if (filter.epoch !== undefined) conditions.push(eq(groups.epoch, filter.epoch));
  if (filter.batch !== undefined) conditions.push(eq(groups.batch, filter.batch));
  if (filter.sample !== undefined) conditions.push(eq(groups.sampleIdx, filter.sample));
  return d
    .select()
    .from(groups)
    .where(and(...conditions))
    .orderBy(asc(groups.epoch), asc(groups.batch), asc(groups.sampleIdx))
    .limit(1000)
    .all();
}

/** The rewards and tool-call counts of a batch's rollouts by sample (the batch update needs nothing else of them). */
export async function batchRewards(
  d: Db,
  runId: string,
  epoch: number,
  batch: number,
): Promise<{ sampleIdx: number; reward: number; toolCalls: number }[]> {
  return d
    .select({ sampleIdx: rollouts.sampleIdx, reward: rollouts.reward, toolCalls: rollouts.toolCalls })
    .from(rollouts)
    .where(and(eq(rollouts.runId, runId), eq(rollouts.epoch, epoch), eq(rollouts.batch, batch)))
    .orderBy(asc(rollouts.sampleIdx), asc(rollouts.rolloutIdx))
    .all();
}

/** Status and reason of every group of the run's most recently finished batch (none before the first), as one query to run in a D1 batch. */
export function lastBatchOutcomesQuery(d: Db, runId: string) {
  const last = d
    .select({ epoch: batches.epoch, batch: batches.batch })
    .from(batches)
    .where(eq(batches.runId, runId))
    .orderBy(desc(batches.epoch), desc(batches.batch))
    .limit(1);
  return d
    .select({ status: groups.status, reason: groups.reason })
    .from(groups)
    .where(and(eq(groups.runId, runId), sql`(${groups.epoch}, ${groups.batch}) = (${last})`));
}
