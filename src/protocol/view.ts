import type { Protocol } from "../contract";
import { db } from "../db/client";
import { findEvaluation } from "../db/evaluationRows";
import { findProtocol } from "../db/protocols";
import { findRun } from "../db/runs";
import { PAPER_PROTOCOL, type ProtocolParams } from "./paper";

/** A protocol as the admin API shows it: its run and its evaluations' figures; undefined if unknown. */
export async function protocolView(env: Env, id: string): Promise<Protocol | undefined> {
  const d = db(env.DB);
  const p = await findProtocol(d, id);
  if (!p) return undefined;
  const run = await findRun(d, p.runId);
  const evaluations = await Promise.all(p.evaluationIds.map((e) => findEvaluation(d, e)));
  return {
    id: p.id,
    kind: p.kind,
    status: p.status,
    error: p.error,
    // Protocols stored before variants existed ran without tools.
    params: { ...(p.params as ProtocolParams), variant: (p.params as Partial<ProtocolParams>).variant ?? "no-tools" },
    paper: { ...PAPER_PROTOCOL, evaluate: { ...PAPER_PROTOCOL.evaluate, datasets: [...PAPER_PROTOCOL.evaluate.datasets] } },
    run: run ? { id: run.id, status: run.status, latestVersion: run.latestVersion } : null,
    evaluations: evaluations
      .filter((e) => e !== undefined)
      .map((e) => ({ id: e.id, datasetId: e.datasetId, status: e.status, versions: e.versions, summary: e.summary })),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}
