/**
 * Step names, event types and instance ids of the training Workflows, shared by the code and its tests.
 * Every name is deterministic so a replayed instance finds the results of the steps it already completed.
 * A run's instances (docs/architecture.md §4): the run, its segments (chunks of an epoch's batches) and
 * each batch's lanes (each runs its share of the batch's rollout groups one after the other).
 */
export const TRAINING_STEPS = {
  start: "start",
  spawnSegment: (epoch: number, segment: number) => `e${epoch}-k${segment}-spawn`,
  waitSegment: (epoch: number, segment: number) => `e${epoch}-k${segment}-wait`,
  timedOutSegment: (epoch: number, segment: number) => `e${epoch}-k${segment}-timed-out`,
  /** The checkpoint after the last epoch. */
  last: "last-checkpoint",
  finish: "finish",
  fail: "fail",
} as const;

export const SEGMENT_STEPS = {
  checkpoint: (epoch: number, batch: number) => `e${epoch}-b${batch}-checkpoint`,
  spawn: (epoch: number, batch: number) => `e${epoch}-b${batch}-spawn`,
  waitLane: (epoch: number, batch: number, lane: number) => `e${epoch}-b${batch}-l${lane}-wait`,
  timedOutLane: (epoch: number, batch: number, lane: number) => `e${epoch}-b${batch}-l${lane}-timed-out`,
  update: (epoch: number, batch: number) => `e${epoch}-b${batch}-update`,
  fail: "fail",
  notify: "notify",
} as const;

export const LANE_STEPS = {
  group: (sampleIdx: number) => `s${sampleIdx}`,
  drop: (sampleIdx: number) => `s${sampleIdx}-drop`,
  notify: "notify",
} as const;

/** Why a segment ended before its last batch: what its checkpoint found (cancel, budget, a failing upstream). */
export type Stop = { status: "completed" | "cancelled" | "failed"; reason: string; error: string | null };

/** Payload of the event a lane sends to its segment; `steps` counts the lane's own steps, its report included. */
export type LaneDone = { groups: number; cancelled: boolean; steps: number };

/**
 * Payload of the event a segment sends to the run: the library version it ended with, why it stopped
 * early (null: it ran all its batches), and the steps it and its lanes used.
 */
export type SegmentDone = {
  version: number;
  stop: Stop | null;
  steps: { segment: number; lanes: number; maxLane: number };
};

export type TrainingSegmentParams = {
  runId: string;
  /** The run instance waiting for this segment's report. */
  parentId: string;
  epoch: number;
  segment: number;
  /** The segment's batches of the epoch: `[fromBatch, toBatch)`. */
  fromBatch: number;
  toBatch: number;
  /** The library version the segment's first batch starts from. */
  libraryVersion: number;
  /** What the epoch's batches are made of, and the checks between them (the run's parameters; the same for every segment). */
  samples: number;
  seed: number;
  batchSize: number;
  maxGroupsInFlight: number;
  epochs: number;
  budgetTokens: number | null;
};

export type RolloutLaneParams = {
  runId: string;
  /** The segment instance waiting for this lane's report. */
  parentId: string;
  epoch: number;
  batch: number;
  lane: number;
  /** The lane's rollout groups, run in this order. */
  sampleIdxs: number[];
  /** The pre-batch library every group of the batch is prompted with. */
  libraryVersion: number;
};

/** Event a lane sends to its segment when it has run its groups. */
export const laneDoneEvent = (epoch: number, batch: number, lane: number) => `lane-done-e${epoch}-b${batch}-l${lane}`;
/** Event a segment sends to its run when its batches are done (or it stopped). */
export const segmentDoneEvent = (epoch: number, segment: number) => `segment-done-e${epoch}-k${segment}`;

/** Child instance ids: deterministic, so re-spawning after a replay finds the existing instance. */
export const segmentInstanceId = (runId: string, epoch: number, segment: number) => `${runId}-e${epoch}-k${segment}`;
export const laneInstanceId = (runId: string, epoch: number, batch: number, lane: number) => `${runId}-e${epoch}-b${batch}-l${lane}`;

/** Steps of the evaluation Workflows (parent and per-chunk children). */
export const EVAL_STEPS = {
  start: "start",
  spawn: (wave: number) => `w${wave}-spawn`,
  waitChunk: (chunk: number) => `c${chunk}-wait`,
  timedOutChunk: (chunk: number) => `c${chunk}-timed-out`,
  finish: "finish",
  fail: "fail",
  notify: "notify",
  question: (sampleIdx: number, version: number) => `s${sampleIdx}-v${version}`,
  /** Whether the evaluation replays captured requests (docs/ownership.md); such a capture is then judged in its own step. */
  kind: "kind",
  judge: (sampleIdx: number) => `s${sampleIdx}-judge`,
} as const;

/** Event a chunk instance sends to its evaluation when its questions are scored. */
export const chunkDoneEvent = (chunk: number) => `chunk-done-${chunk}`;
export const chunkInstanceId = (evaluationId: string, chunk: number) => `${evaluationId}-c${chunk}`;

/** Steps a finished training run takes to gate its final version (TrainingRunWorkflow.gate in workflows/trainingRun.ts). */
export const GATE_STEPS = {
  start: "gate",
  wait: "gate-wait",
  decide: "gate-decide",
} as const;
/** Event an evaluation sends to the run (or protocol) waiting for it. */
export const evaluationDoneEvent = (evaluationId: string) =>
  `evaluation-done-${evaluationId.replace(/[^A-Za-z0-9_-]/g, "-")}`.slice(0, 100);

/** Steps of the paper-protocol Workflow. */
export const PROTOCOL_STEPS = {
  poll: (i: number) => `poll-${i}`,
  sleep: (i: number) => `sleep-${i}`,
  evaluate: "evaluate",
  wait: (i: number) => `evaluation-${i}-wait`,
  finish: "finish",
  fail: "fail",
} as const;
