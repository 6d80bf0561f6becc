import { libraryCapsOf } from "../core/hyperparams";
import type { Experience } from "../core/library";
import {
  assignImportedIds,
  type LibraryFileFormat,
  type NativeLibraryFile,
  readLibraryFile,
  type ReferenceLibraryFile,
  toNativeFile,
  toReferenceFile,
} from "../core/libraryFile";
import { modelMismatchWarning } from "../core/modelWarning";
import type { AgentRow } from "../db/agents";
import { db } from "../db/client";
import { findVersion, type LibraryVersionRow, versionItems } from "../db/libraryVersions";
import { badRequest, notFound } from "../shared/errors";
import { storeOwnedVersion } from "./store";

/** Export and import of library versions as files (docs/ownership.md, "Export and import"). */

export async function exportVersion(
  env: Env,
  agent: AgentRow,
  version: number,
  format: LibraryFileFormat,
): Promise<NativeLibraryFile | ReferenceLibraryFile> {
  const d = db(env.DB);
  const row = await findVersion(d, agent.id, version);
  if (!row) throw notFound("library version", String(version));
  const items = await versionItems(d, agent.id, version);
  if (format === "reference") return toReferenceFile(items);
  return toNativeFile(
    { agent: agent.name, version, source: row.source, author: row.author, model: row.model, note: row.note, createdAt: row.createdAt },
    items,
  );
}

export type ImportRequest = {
  format: LibraryFileFormat | "auto";
  author: string;
  reason: string;
  /** The model the library was learned with, when the file does not say (the reference format never does). */
  model?: string;
  /** Give every item a new id, even ids of ours (E<n>) that the file carries. */
  renumber: boolean;
};

/**
 * A new version from an uploaded file. It records the model the file names (or `model`, or else the
 * agent's current one); a model other than the one the agent serves is reported as a warning.
 */
export async function importVersion(
  env: Env,
  agent: AgentRow,
  text: string,
  request: ImportRequest,
): Promise<{ row: LibraryVersionRow; items: Experience[]; warnings: string[] }> {
  const read = readLibraryFile(text, request.format, libraryCapsOf(agent.trainingDefaults));
  if (!read.ok) throw badRequest(`${read.error}; nothing was stored`, read.code, "body");
  const model = request.model ?? read.model ?? agent.upstreamModel;
  const { row, items } = await storeOwnedVersion(
    db(env.DB),
    agent,
    { source: "imported", author: request.author, parentVersion: null, model },
    (highestEver) => ({
      items: assignImportedIds(read.items, { highestEver, renumber: request.renumber, author: request.author, reason: request.reason }),
      note: `imported (${read.format} format, ${read.items.length} items) by ${request.author}${request.reason ? `: ${request.reason}` : ""}`,
    }),
  );
  const warning = modelMismatchWarning(row, agent.upstreamModel);
  return { row, items, warnings: warning ? [warning] : [] };
}
