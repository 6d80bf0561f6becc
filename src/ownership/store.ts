import type { Experience } from "../core/library";
import type { AgentRow } from "../db/agents";
import type { Db } from "../db/client";
import {
  findVersion,
  highestItemNumberEver,
  insertVersionIfUnchanged,
  nextVersionNumber,
  type LibraryVersionRow,
  VersionRaceError,
} from "../db/libraryVersions";
import { newId } from "../shared/ids";
import { ApiError, conflict } from "../shared/errors";

/** Writes a version made outside training: by hand or by an import (docs/ownership.md). */

const ATTEMPTS = 3;

export type OwnedVersion = {
  source: "manual" | "imported";
  author: string;
  parentVersion: number | null;
  model: string | null;
};

/** What `build` makes: the items and the note that says what was done. */
export type Built = { items: Experience[]; note: string };

/**
 * Builds the items against the agent's highest item number ever issued and stores them as the next
 * version, in one D1 batch that fails if the library moved on meanwhile (a run's batch landing at the
 * same time); then reads the library again and rebuilds, a few times at most. `build` answers with
 * the items or throws the ApiError that refuses the request (nothing is stored then).
 */
export async function storeOwnedVersion(
  d: Db,
  agent: AgentRow,
  meta: OwnedVersion,
  build: (highestEver: number) => Built,
): Promise<{ row: LibraryVersionRow; items: Experience[] }> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const highestEver = await highestItemNumberEver(d, agent.id);
    const { items, note } = build(highestEver);
    const version = await nextVersionNumber(d, agent.id);
    try {
      await insertVersionIfUnchanged(
        d,
        { agentId: agent.id, version, runId: null, originKey: `${meta.source}/${newId("ver")}`, note, ...meta },
        items,
        highestEver,
      );
    } catch (error) {
      if (error instanceof VersionRaceError) continue;
      throw error;
    }
    const row = await findVersion(d, agent.id, version);
    if (!row) throw new ApiError(500, `version ${version} was written but cannot be read back`, "internal_error");
    return { row, items };
  }
  throw conflict(`the library of agent '${agent.name}' kept changing while the version was written; try again`, "library_changed");
}
