import { modelMismatchWarning } from "../core/modelWarning";
import type { AgentRow } from "../db/agents";
import type { Db } from "../db/client";
import { findVersion } from "../db/libraryVersions";

/**
 * What a promotion of `version` onto the agent should be recorded (and answered) with: a version
 * learned with another model than the agent serves (docs/ownership.md). Every path that promotes —
 * by hand, by the gate, by the schedule — records these on the decision.
 */
export async function promotionWarnings(d: Db, agent: Pick<AgentRow, "id" | "upstreamModel">, version: number | null): Promise<string[]> {
  if (version === null || version === 0) return [];
  const row = await findVersion(d, agent.id, version);
  const warning = modelMismatchWarning(row ?? null, agent.upstreamModel);
  return warning ? [warning] : [];
}
