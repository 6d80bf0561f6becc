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
  context: "context",
  rollouts: "rollouts",
  record: "record",
  summaries: "summaries",
  reflect: "reflect",
  drop: "drop",
  notify: "notify",
} as const;

/** Event a group instance sends to its parent run when its outcome is stored. */
export const groupDoneEvent = (epoch: number, sampleIdx: number) => `group-done-e${epoch}-s${sampleIdx}`;

/** Child instance ids: deterministic, so re-spawning after a replay finds the existing instance. */
export const groupInstanceId = (runId: string, epoch: number, sampleIdx: number) => `${runId}-e${epoch}-s${sampleIdx}`;
