import { libraryCapsOf } from "../core/hyperparams";
import type { Experience } from "../core/library";
import { applyManualEdit, type ManualOperation } from "../core/manualEdit";
import type { AgentRow } from "../db/agents";
import { db } from "../db/client";
import { findVersion, type LibraryVersionRow, versionItems } from "../db/libraryVersions";
import { badRequest, notFound } from "../shared/errors";
import { storeOwnedVersion } from "./store";

export type ManualRequest = { base: number; operations: ManualOperation[]; author: string; reason: string };

/**
 * A new version made by hand from `base` (docs/ownership.md, "Editing by hand"): the operations are
 * checked as a whole against the agent's caps, and the version is stored whole or not at all. It
 * records the agent's current upstream model; editing a version learned with another one says so.
 */
export async function createManualVersion(
  env: Env,
  agent: AgentRow,
  request: ManualRequest,
): Promise<{ row: LibraryVersionRow; items: Experience[]; warnings: string[] }> {
  const d = db(env.DB);
  const base = request.base === 0 ? null : await findVersion(d, agent.id, request.base);
  if (request.base !== 0 && !base) throw notFound("library version", String(request.base));
  const baseItems = await versionItems(d, agent.id, request.base);
  const caps = libraryCapsOf(agent.trainingDefaults);
  const { row, items } = await storeOwnedVersion(
    d,
    agent,
    {
      source: "manual",
      author: request.author,
      parentVersion: request.base === 0 ? null : request.base,
      model: agent.upstreamModel,
    },
    (highestEver) => {
      const outcome = applyManualEdit(baseItems, request.operations, {
        caps,
        highestId: highestEver,
        stamp: { source: "manual", author: request.author, reason: request.reason },
      });
      if (!outcome.ok) throw badRequest(`${outcome.error}; nothing was stored`, "invalid_operations", outcome.param);
      return { items: outcome.items, note: manualNote(request, outcome.applied) };
    },
  );
  const warnings =
    base?.model && base.model !== agent.upstreamModel
      ? [
          `base version ${base.version} was learned with model '${base.model}'; this version records the model the agent serves now ('${agent.upstreamModel}')`,
        ]
      : [];
  return { row, items, warnings };
}

function manualNote(request: ManualRequest, applied: { added: number; edited: number; deleted: number }): string {
  const from = request.base === 0 ? "the empty library" : `version ${request.base}`;
  const what = `${applied.added} added, ${applied.edited} edited, ${applied.deleted} deleted`;
  return `edited by hand from ${from} by ${request.author} (${what})${request.reason ? `: ${request.reason}` : ""}`;
}
