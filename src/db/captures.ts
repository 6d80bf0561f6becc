import { and, desc, eq, gt, inArray, lt, ne, notInArray } from "drizzle-orm";
import { newId } from "../shared/ids";
import { CAPTURE_OFF, captureConfigSchema, type CaptureConfig } from "../core/policies";
import type { Db } from "./client";
import { agents, captures, datasets, feedback, samples } from "./schema";

export type CaptureRow = typeof captures.$inferSelect;
export type FeedbackRow = typeof feedback.$inferSelect;
export type DatasetRecord = typeof datasets.$inferSelect;

/** The agent's capture setting and the stamp it was read with (null when the agent is gone). */
export async function captureSettingOf(d: Db, agentId: string): Promise<{ capture: CaptureConfig; updatedAt: string } | null> {
  const row = await d.select({ capture: agents.capture, updatedAt: agents.updatedAt }).from(agents).where(eq(agents.id, agentId)).get();
  if (!row) return null;
  const parsed = captureConfigSchema.safeParse(row.capture);
  return { capture: parsed.success ? parsed.data : CAPTURE_OFF, updatedAt: row.updatedAt };
}

/** A request id is captured once; a replay keeps the first capture. */
export async function insertCapture(d: Db, row: typeof captures.$inferInsert): Promise<void> {
  await d.insert(captures).values(row).onConflictDoNothing();
}

export async function findCapture(d: Db, agentId: string, requestId: string): Promise<CaptureRow | undefined> {
  return d
    .select()
    .from(captures)
    .where(and(eq(captures.agentId, agentId), eq(captures.requestId, requestId)))
    .get();
}

export async function labelCapture(
  d: Db,
  requestId: string,
  label: { reward: number | null; answer: string | null; comment: string | null },
): Promise<void> {
  await d
    .update(captures)
    .set({ ...label, labelledAt: new Date().toISOString() })
    .where(eq(captures.requestId, requestId));
}

type NewFeedback = Omit<typeof feedback.$inferInsert, "id" | "createdAt" | "reviewedAt"> & { keyId: string };

/**
 * Stores a feedback row unless its key already sent `perDay` rows since `sinceIso`. The count and the
 * insert are one statement (D1 runs each atomically), so concurrent sends cannot overshoot the cap, as
 * a count followed by an insert did. Null when the cap was reached and nothing was stored.
 */
export async function insertFeedbackUnderCap(
  d: Db,
  row: NewFeedback,
  cap: { sinceIso: string; perDay: number },
): Promise<FeedbackRow | null> {
  const id = newId("fb");
  const result = await d.$client
    .prepare(
      `insert into feedback (id, agent_id, request_id, reward, answer, comment, captured, sampled, key_id, status)
       select ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
       where (select count(*) from feedback where key_id = ?9 and created_at >= ?11) < ?12`,
    )
    .bind(
      id,
      row.agentId,
      row.requestId,
      row.reward ?? null,
      row.answer ?? null,
      row.comment ?? null,
      row.captured ? 1 : 0,
      row.sampled ? 1 : 0,
      row.keyId,
      row.status ?? "pending",
      cap.sinceIso,
      cap.perDay,
    )
    .run();
  if (result.meta.changes === 0) return null;
  const created = await d.select().from(feedback).where(eq(feedback.id, id)).get();
  if (!created) throw new Error(`feedback ${id} was stored but cannot be read back`);
  return created;
}

/**
 * Request ids of the agent's captures a replay may send again (docs/ownership.md, "Replay gate"):
 * within retention, with a question, and held out from training: no question that appears in one of
 * `trainedOn` (the data sets of the runs that made the versions compared). Newest first, at most `limit`.
 */
export async function replayableCaptures(
  d: Db,
  agentId: string,
  nowIso: string,
  trainedOn: readonly string[],
  limit: number,
): Promise<string[]> {
  const heldOut =
    trainedOn.length === 0
      ? undefined
      : notInArray(
          captures.question,
          d
            .select({ question: samples.question })
            .from(samples)
            .where(inArray(samples.datasetId, [...trainedOn])),
        );
  const rows = await d
    .select({ requestId: captures.requestId })
    .from(captures)
    .where(and(eq(captures.agentId, agentId), gt(captures.expiresAt, nowIso), ne(captures.question, ""), heldOut))
    .orderBy(desc(captures.createdAt), desc(captures.requestId))
    .limit(limit)
    .all();
  return rows.map((r) => r.requestId);
}

/** Deletes captures past their retention; returns how many. */
export async function purgeExpiredCaptures(d: Db, nowIso: string): Promise<number> {
  const gone = await d.delete(captures).where(lt(captures.expiresAt, nowIso)).returning({ id: captures.requestId });
  return gone.length;
}

export const feedbackDatasetName = (agentName: string) => `${agentName}-feedback`;

/**
 * The agent's feedback data set (`<agent>-feedback`, source 'feedback'), made on first use. Null when
 * the name is held by a data set that is not a feedback set (nothing is written into someone's upload).
 */
export async function ensureFeedbackDataset(d: Db, agentName: string): Promise<DatasetRecord | null> {
  const name = feedbackDatasetName(agentName);
  await d
    .insert(datasets)
    .values({
      id: newId("ds"),
      name,
      source: "feedback",
      description: `Labelled feedback on captured requests of agent ${agentName}.`,
      sampleCount: 0,
      state: "ready",
    })
    .onConflictDoNothing({ target: datasets.name });
  const row = await d.select().from(datasets).where(eq(datasets.name, name)).get();
  return row && row.source === "feedback" && row.state === "ready" ? row : null;
}

/**
 * Adds (or relabels) one sample of a feedback data set, keyed by the request id, and refreshes the
 * set's count — one D1 batch. New samples take the next position; a relabel keeps its position.
 */
export async function upsertFeedbackSample(
  d: Db,
  datasetId: string,
  sample: { sampleId: string; question: string; answer: string; extras: Record<string, unknown> },
): Promise<void> {
  const c = d.$client;
  await c.batch([
    c
      .prepare(
        `insert into samples (dataset_id, idx, sample_id, question, answer, extras)
         select ?1, coalesce(max(idx) + 1, 0), ?2, ?3, ?4, ?5 from samples where dataset_id = ?1
         on conflict (dataset_id, sample_id) do update set question = excluded.question, answer = excluded.answer, extras = excluded.extras`,
      )
      .bind(datasetId, sample.sampleId, sample.question, sample.answer, JSON.stringify(sample.extras)),
    c.prepare("update datasets set sample_count = (select count(*) from samples where dataset_id = ?1) where id = ?1").bind(datasetId),
  ]);
}

export async function listFeedback(
  d: Db,
  agentId: string,
  status: FeedbackRow["status"] | undefined,
  limit: number,
): Promise<FeedbackRow[]> {
  const where = status ? and(eq(feedback.agentId, agentId), eq(feedback.status, status)) : eq(feedback.agentId, agentId);
  return d.select().from(feedback).where(where).orderBy(desc(feedback.createdAt)).limit(limit).all();
}

export async function findFeedback(d: Db, agentId: string, id: string): Promise<FeedbackRow | undefined> {
  return d
    .select()
    .from(feedback)
    .where(and(eq(feedback.agentId, agentId), eq(feedback.id, id)))
    .get();
}

/** Moves a pending row to its decision; false when it was no longer pending (decided concurrently). */
export async function decideFeedback(d: Db, id: string, status: "approved" | "rejected", sampled: boolean): Promise<boolean> {
  const done = await d
    .update(feedback)
    .set({ status, sampled, reviewedAt: new Date().toISOString() })
    .where(and(eq(feedback.id, id), eq(feedback.status, "pending")))
    .returning({ id: feedback.id });
  return done.length > 0;
}
