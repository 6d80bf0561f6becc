import { z } from "zod";
import type { Group } from "../contract";
import { operationSchema } from "../core/operations";
import { groupAdvantage, type GroupRow } from "../db/training";
import type { TextReader } from "../db/texts";

const experiences = z.array(z.object({ name: z.string(), text: z.string() }));
const operations = z.array(operationSchema);

/** A stored group outcome as the admin API shows it; the JSON columns were validated when written. */
export async function groupView(texts: TextReader, row: GroupRow): Promise<Group> {
  return {
    runId: row.runId,
    epoch: row.epoch,
    batch: row.batch,
    sampleIdx: row.sampleIdx,
    status: row.status,
    meanReward: row.meanReward,
    passed: row.passed,
    advantage: await groupAdvantage(texts, row),
    experiences: experiences.catch([]).parse(row.experiences ?? []),
    operations: operations.catch([]).parse(row.operations ?? []),
    reason: row.reason,
  };
}
