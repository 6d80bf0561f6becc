/**
 * Where a benchmarked training run's time went, from the simulated model's request log: every request
 * is matched to its group and stage by its `seed` (derived from the run's seed exactly as the run
 * derives it, src/core/batching.ts), and the gaps in which no call of a group was in flight are our own
 * work — D1 statements, Workflow steps, instance start-up — on that group's critical path.
 */
import { deriveSeed, epochPlan } from "../../src/core/batching";
import { laneMembers, lanesOf } from "../../src/core/stepBudget";
import type { RecordedRequest } from "../simServer";

type Window = { start: number; end: number };
type Figures = { mean: number; p90: number; n: number };

export type Timeline = {
  /** Run created → its first call. */
  firstCallMs: number;
  /** Within a group: one stage's last reply → the next stage's first request. */
  stageGap: Figures;
  /** Within a lane: one group's last reply → the next group's first request. */
  groupGap: Figures;
  /** Run created → each lane's first request. */
  laneStart: Figures;
  /** The first and the last lane of a batch to finish, apart. */
  laneSpreadMs: number;
  /** A batch's last group reply → its batch update request. */
  toUpdateMs: number;
  /** The last reply → the run seen finished. */
  toFinishMs: number;
};

const STAGES = ["rollout", "summary", "advantage", "group-update"] as const;

function figures(values: number[]): Figures {
  if (values.length === 0) return { mean: 0, p90: 0, n: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    p90: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))] ?? 0,
    n: values.length,
  };
}

const widen = (w: Window | undefined, r: { start: number; end: number }): Window =>
  w ? { start: Math.min(w.start, r.start), end: Math.max(w.end, r.end) } : { ...r };

/** One epoch (epoch 1) of `samples` samples in batches of `batchSize`, `groupSize` rollouts per group. */
export function trainTimeline(
  requests: readonly RecordedRequest[],
  run: {
    createdAt: number;
    finishedAt: number;
    seed: number;
    samples: number;
    batchSize: number;
    groupSize: number;
    maxGroupsInFlight: number;
  },
): Timeline {
  const bySeed = new Map<number, { sample: number; stage: (typeof STAGES)[number] }>();
  for (let s = 0; s < run.samples; s++) {
    for (let k = 0; k < run.groupSize; k++) {
      bySeed.set(deriveSeed(run.seed, "rollout", 1, s, k), { sample: s, stage: "rollout" });
      bySeed.set(deriveSeed(run.seed, "summary", 1, s, k), { sample: s, stage: "summary" });
    }
    bySeed.set(deriveSeed(run.seed, "advantage", 1, s), { sample: s, stage: "advantage" });
    bySeed.set(deriveSeed(run.seed, "group-update", 1, s), { sample: s, stage: "group-update" });
  }
  const batches = epochPlan(run.samples, run.seed, 1, run.batchSize);
  const updateSeeds = new Map(batches.map((_, b) => [deriveSeed(run.seed, `e1/b${b}/batch-update`), b]));
  const stages = new Map<number, Partial<Record<(typeof STAGES)[number], Window>>>();
  const updates = new Map<number, Window>();
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const r of requests) {
    if (r.endedAt === null) continue;
    const seed = (r.body as { seed?: unknown } | null)?.seed;
    if (typeof seed !== "number") continue;
    const span = { start: r.startedAt, end: r.endedAt };
    first = Math.min(first, span.start);
    last = Math.max(last, span.end);
    const call = bySeed.get(seed);
    if (call) {
      const group = stages.get(call.sample) ?? {};
      group[call.stage] = widen(group[call.stage], span);
      stages.set(call.sample, group);
      continue;
    }
    const batch = updateSeeds.get(seed);
    if (batch !== undefined) updates.set(batch, widen(updates.get(batch), span));
  }
  const groupWindow = (sample: number): Window | null => {
    const windows = STAGES.map((s) => stages.get(sample)?.[s]).filter((w): w is Window => w !== undefined);
    return windows.length === 0 ? null : windows.reduce((a, b) => widen(a, b));
  };
  const stageGaps: number[] = [];
  for (const group of stages.values()) {
    const present = STAGES.map((s) => group[s]).filter((w): w is Window => w !== undefined);
    for (let i = 1; i < present.length; i++) stageGaps.push(present[i]!.start - present[i - 1]!.end);
  }
  const groupGaps: number[] = [];
  const laneStarts: number[] = [];
  let spread = 0;
  let toUpdate = 0;
  for (const [b, members] of batches.entries()) {
    const lanes = lanesOf(members.length, run.maxGroupsInFlight);
    const laneEnds: number[] = [];
    for (let lane = 0; lane < lanes; lane++) {
      const windows = laneMembers(members, lanes, lane)
        .map(groupWindow)
        .filter((w): w is Window => w !== null);
      if (windows[0]) laneStarts.push(windows[0].start - run.createdAt);
      for (let i = 1; i < windows.length; i++) groupGaps.push(windows[i]!.start - windows[i - 1]!.end);
      const end = windows.at(-1)?.end;
      if (end !== undefined) laneEnds.push(end);
    }
    if (laneEnds.length > 0) spread = Math.max(spread, Math.max(...laneEnds) - Math.min(...laneEnds));
    const update = updates.get(b);
    if (update && laneEnds.length > 0) toUpdate = Math.max(toUpdate, update.start - Math.max(...laneEnds));
  }
  return {
    firstCallMs: Number.isFinite(first) ? first - run.createdAt : 0,
    stageGap: figures(stageGaps),
    groupGap: figures(groupGaps),
    laneStart: figures(laneStarts),
    laneSpreadMs: spread,
    toUpdateMs: toUpdate,
    toFinishMs: last > 0 ? run.finishedAt - last : 0,
  };
}
