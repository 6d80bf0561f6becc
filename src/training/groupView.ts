import { z } from "zod";
import type { Group } from "../contract";
import { operationSchema } from "../core/operations";
import type { GroupRow } from "../db/training";

const experiences = z.array(z.object({ name: z.string(), text: z.string() }));
const operations = z.array(operationSchema);

/** A stored group outcome as the admin API shows it; the JSON columns were validated when written. */
export function groupView(row: GroupRow): Group {
  return {
    runId: row.runId,
    epoch: row.epoch,
    batch: row.batch,
    sampleIdx: row.sampleIdx,
    status: row.status,
    meanReward: row.meanReward,
    passed: row.passed,
    advantage: row.advantage,
    experiences: experiences.catch([]).parse(row.experiences ?? []),
    operations: operations.catch([]).parse(row.operations ?? []),
    reason: row.reason,
  };
}
