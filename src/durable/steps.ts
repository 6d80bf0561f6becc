/**
 * Step names and event types of the training Workflows, shared by the code and its tests. Every name is
 * deterministic so a replayed instance finds the results of the steps it already completed.
 */
export const TRAINING_STEPS = {
  start: "start",
  checkpoint: (epoch: number, batch: number) => `e${epoch}-b${batch}-checkpoint`,
  spawn: (epoch: number, batch: number, wave: number) => `e${epoch}-b${batch}-w${wave}-spawn`,
  waitGroup: (epoch: number, sampleIdx: number) => `e${epoch}-s${sampleIdx}-wait`,
  timedOutGroup: (epoch: number, sampleIdx: number) => `e${epoch}-s${sampleIdx}-timed-out`,
  update: (epoch: number, batch: number) => `e${epoch}-b${batch}-update`,
  finish: "finish",
  fail: "fail",
} as const;

export const GROUP_STEPS = {
  group: "group",
  drop: "drop",
  notify: "notify",
} as const;

/** Payload of the event a group instance sends to its parent. */
export type GroupDone = { outcome: string; steps: number };

/** Event a group instance sends to its parent run when its outcome is stored. */
export const groupDoneEvent = (epoch: number, sampleIdx: number) => `group-done-e${epoch}-s${sampleIdx}`;

/** Child instance ids: deterministic, so re-spawning after a replay finds the existing instance. */
export const groupInstanceId = (runId: string, epoch: number, sampleIdx: number) => `${runId}-e${epoch}-s${sampleIdx}`;

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
