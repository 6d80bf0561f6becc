/**
 * How a training run is split across Workflow instances, and how many steps each takes, so that a run
 * that cannot fit the per-instance step limit is refused before it starts instead of failing halfway
 * (docs/architecture.md §4, §5; README, "Steps").
 *
 * A run is three levels of instances: the run's own instance runs one segment after the other; a
 * segment (a chunk of consecutive batches of one epoch) runs its batches one after the other; each
 * batch fans out to lanes, and a lane runs its share of the batch's rollout groups one after the other.
 * The run's steps grow with segments, a segment's with its batches and lanes, a lane's with its groups:
 * no instance's steps grow with the size of the data set.
 */

/** Steps one Workflow instance may take (Cloudflare's default limit). */
export const WORKFLOW_STEP_LIMIT = 10_000;
/** Kept free in every instance for steps taken only when something goes wrong (a time-out, a failure). */
export const STEP_RESERVE = 1_000;
/**
 * Steps a segment is planned to take at most. Well inside the limit: an instance that wakes up replays
 * its completed steps from their stored results, so a smaller instance wakes up faster.
 */
export const SEGMENT_STEP_TARGET = 2_000;
/** The promotion gate after the run: one step, three when the agent has a gate. */
const GATE_STEPS_MAX = 3;

export type StepPlanParams = { epochs: number; batchSize: number; maxGroupsInFlight: number };

/** One kind of instance in a run's plan: how many there are and the most steps any of them takes. */
export type InstancePlan = { instances: number; maxSteps: number };

export type RunPlan = {
  /** Steps allowed per instance, and what each plan keeps free of it. */
  limit: number;
  reserve: number;
  /** The run's own instance: a start step, two per segment, a final checkpoint, a finish step, the gate. */
  run: InstancePlan;
  /** Segments: per batch a checkpoint, a spawn, one wait per lane and an update; then a report. */
  segments: InstancePlan & { batchesEach: number; perEpoch: number };
  /** Lanes: one step per rollout group, then a report. */
  lanes: InstancePlan & { perBatch: number };
  /** Every step of the run when nothing goes wrong. */
  totalSteps: number;
};

/** Lanes of a batch of `groups` groups: one per group in flight, never more than the groups. */
export const lanesOf = (groups: number, maxGroupsInFlight: number) => Math.max(1, Math.min(groups, maxGroupsInFlight));

/**
 * The rollout groups of lane `lane`: every `lanes`-th member of the batch, starting at `lane`, so each
 * lane gets a fair share of a batch in its (shuffled) order.
 */
export function laneMembers<T>(members: readonly T[], lanes: number, lane: number): T[] {
  return members.filter((_, i) => i % lanes === lane);
}

const batchSteps = (groups: number, maxGroupsInFlight: number) => 3 + lanesOf(groups, maxGroupsInFlight);

/** Batches per segment: as many as fit SEGMENT_STEP_TARGET (the report step included), at least one. */
export function batchesPerSegment(params: StepPlanParams): number {
  return Math.max(1, Math.floor((SEGMENT_STEP_TARGET - 1) / batchSteps(params.batchSize, params.maxGroupsInFlight)));
}

/** The batches `[from, to)` of each segment of an epoch of `batches` batches, `each` per segment. */
export function segmentRanges(batches: number, each: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (let from = 0; from < batches; from += each) out.push({ from, to: Math.min(batches, from + each) });
  return out;
}

/** The segment of an epoch that holds `batch`. */
export const segmentOf = (batch: number, each: number) => Math.floor(batch / each);

/** The plan of a run over `samples` samples; `each` batches per segment (default: as many as fit). */
export function runPlan(samples: number, params: StepPlanParams, each = batchesPerSegment(params)): RunPlan {
  const sizes: number[] = [];
  for (let start = 0; start < samples; start += params.batchSize) sizes.push(Math.min(params.batchSize, samples - start));
  const ranges = segmentRanges(sizes.length, each);
  const segmentSteps = ranges.map(
    ({ from, to }) => sizes.slice(from, to).reduce((n, size) => n + batchSteps(size, params.maxGroupsInFlight), 0) + 1,
  );
  const lanesPerEpoch = sizes.reduce((n, size) => n + lanesOf(size, params.maxGroupsInFlight), 0);
  const maxLaneSteps = sizes.reduce((m, size) => Math.max(m, Math.ceil(size / lanesOf(size, params.maxGroupsInFlight)) + 1), 0);
  const runSteps = 1 + params.epochs * ranges.length * 2 + 2 + GATE_STEPS_MAX;
  const epochSteps = segmentSteps.reduce((a, b) => a + b, 0) + samples + lanesPerEpoch;
  return {
    limit: WORKFLOW_STEP_LIMIT,
    reserve: STEP_RESERVE,
    run: { instances: 1, maxSteps: runSteps },
    segments: {
      instances: params.epochs * ranges.length,
      maxSteps: Math.max(0, ...segmentSteps),
      // What a segment holds: `each`, unless an epoch has fewer batches.
      batchesEach: Math.min(each, sizes.length),
      perEpoch: ranges.length,
    },
    lanes: {
      instances: params.epochs * lanesPerEpoch,
      maxSteps: maxLaneSteps,
      perBatch: lanesOf(params.batchSize, params.maxGroupsInFlight),
    },
    totalSteps: runSteps + params.epochs * epochSteps,
  };
}

/** Why a run does not fit, or null when every instance of its plan does. */
export function stepBudgetProblem(samples: number, params: StepPlanParams): string | null {
  const plan = runPlan(samples, params);
  const allowed = WORKFLOW_STEP_LIMIT - STEP_RESERVE;
  const over = (
    [
      ["this run's own instance", plan.run.maxSteps],
      ["a segment of this run", plan.segments.maxSteps],
      ["a lane of this run", plan.lanes.maxSteps],
    ] as const
  ).find(([, steps]) => steps > allowed);
  if (!over) return null;
  return `${over[0]} would take ${over[1]} Workflow steps (${params.epochs} epochs × ${samples} samples, ${plan.segments.instances} segments); an instance may plan at most ${allowed} (the limit is ${WORKFLOW_STEP_LIMIT} per instance, ${STEP_RESERVE} kept for retries and time-outs): use fewer epochs, larger batches or a smaller data set`;
}
