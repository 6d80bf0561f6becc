import type { Evaluation } from "../contract";
import { versionLabel } from "../core/evaluationFigures";
import { db } from "../db/client";
import { samplesPage } from "../db/datasets";
import { evaluationScoreRows, scoredCounts, type EvaluationRow } from "../db/evaluationRows";
import { evalParamsSchema, evaluationTokens } from "./evaluate";

/** An evaluation as the admin API shows it; `detail` adds a page of per-question rewards. */
export async function evaluationView(env: Env, e: EvaluationRow, detail: { offset: number; limit: number } | null): Promise<Evaluation> {
  const d = db(env.DB);
  const params = evalParamsSchema.parse(e.params);
  const [counts, tokens] = await Promise.all([scoredCounts(d, e.id), evaluationTokens(d, e)]);
  const figures = e.summary;
  const comparisons = figures?.comparisons.map((c) => ({ version: c.version, against: c.against, diff: c.diff, ci95: c.ci })) ?? [];
  const view: Evaluation = {
    id: e.id,
    agentId: e.agentId,
    datasetId: e.datasetId,
    purpose: e.purpose,
    kind: e.kind,
    replay: params.replay
      ? { captures: params.replay.requestIds.length, judge: params.replay.judge, judgeModel: params.replay.judgeModel }
      : null,
    runId: e.runId,
    status: e.status,
    error: e.error,
    params: {
      k: params.k,
      temperature: params.temperature,
      seed: params.seed,
      chunkSize: params.chunkSize,
      maxChunksInFlight: params.maxChunksInFlight,
    },
    versions: e.versions.map((v) => {
      const f = figures?.versions.find((x) => x.version === v);
      return {
        version: v,
        label: versionLabel(v),
        questionsDone: counts.get(v) ?? 0,
        meanAtK: f?.meanAtK ?? null,
        passAtK: f?.passAtK ?? null,
        ci95: f?.ci ?? null,
        tokens: tokens[String(v)] ?? null,
      };
    }),
    progress: {
      questions: params.samples,
      scored: e.versions.reduce((n, v) => n + (counts.get(v) ?? 0), 0),
      total: params.samples * e.versions.length,
    },
    comparisons,
    paired: comparisons.length === 1 ? (comparisons[0] ?? null) : null,
    questions: figures?.questions ?? null,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
  if (detail) {
    const rows = await evaluationScoreRows(d, e.id, { ...detail, versions: e.versions.length });
    const replayed = params.replay?.requestIds;
    const ids = replayed
      ? new Map(replayed.map((id, idx) => [idx, id]))
      : new Map((await samplesPage(d, e.datasetId, detail.offset, detail.limit)).map((s) => [s.idx, s.sampleId]));
    const byQuestion = new Map<number, Record<string, number[]>>();
    for (const r of rows) {
      const entry = byQuestion.get(r.sampleIdx) ?? {};
      entry[versionLabel(r.version)] = r.rewards;
      byQuestion.set(r.sampleIdx, entry);
    }
    view.perQuestion = [...byQuestion].map(([idx, rewards]) => ({ idx, sampleId: ids.get(idx) ?? null, rewards }));
  }
  return view;
}
