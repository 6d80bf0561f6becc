import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { samples } from "./schema";

export type SampleRow = typeof samples.$inferSelect;

/** The sample at position `idx` of a data set (positions are 0-based, in upload order). */
export async function sampleAt(d: Db, datasetId: string, idx: number): Promise<SampleRow | undefined> {
  return d.select().from(samples).where(and(eq(samples.datasetId, datasetId), eq(samples.idx, idx))).get();
}

export async function datasetSampleCount(d: Db, datasetId: string): Promise<number> {
  const row = await d.select({ n: sql<number>`count(*)` }).from(samples).where(eq(samples.datasetId, datasetId)).get();
  return row?.n ?? 0;
}
