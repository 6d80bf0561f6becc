import { z } from "zod";
import { partialHyperparamsSchema } from "./hyperparams";
import { canaryRolloutSchema } from "./canarySpec";
import { MAX_REPLAY_G, MAX_REPLAY_SAMPLE, REPLAY_DEFAULTS, REPLAY_JUDGES } from "./replay";

/**
 * Per-agent policies for what happens after training: the gate a new version must pass before it
 * serves, capture of proxied traffic for feedback, and scheduled retraining. Stored as JSON columns on
 * the agent; validated here so the admin API and the background jobs agree on their shape.
 */

const seedField = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1)
  .default(1);
const marginField = z.number().min(0).max(1).default(0.02);

/**
 * What a version that passes either gate does: serve everyone, or go to `canary.percent` of the traffic
 * first, where the canary's rule on live feedback promotes or rolls it back (docs/serving.md, "Canary").
 */
const rolloutFields = {
  rollout: z.enum(["promote", "canary"]).default("promote").describe("What a version that passes does: serve everyone, or start a canary"),
  canary: canaryRolloutSchema.optional().describe("The canary a passing version starts (with rollout 'canary')"),
};

/**
 * Gated promotion, `kind: "labelled"` (the default): a finished run's final version is evaluated against
 * the active one on `dataset` (Mean@k at `temperature`), and promoted only if it beats it by at least
 * `margin` (and, with `requireSignificant`, the paired 95% interval of the difference lies above zero).
 */
const labelledGateSchema = z
  .object({
    kind: z.literal("labelled"),
    dataset: z.string().min(1).max(200).describe("Validation data set (id or name)"),
    k: z.number().int().min(1).max(64).default(4),
    temperature: z.number().min(0).max(2).default(0.3),
    margin: marginField,
    requireSignificant: z.boolean().default(false),
    seed: seedField,
    ...rolloutFields,
  })
  .strict();

/**
 * `kind: "replay"` (docs/ownership.md, "Replay gate"): `sample` held-out captured requests (the agent's
 * capture on, within retention) are replayed `G` times under each version and judged without labels,
 * by the group-relative critique or pairwise by a judge; the same rule then applies to the judged scores.
 */
const replayGateSchema = z
  .object({
    kind: z.literal("replay"),
    sample: z.number().int().min(1).max(MAX_REPLAY_SAMPLE).default(REPLAY_DEFAULTS.sample),
    G: z.number().int().min(1).max(MAX_REPLAY_G).default(REPLAY_DEFAULTS.g),
    temperature: z.number().min(0).max(2).default(REPLAY_DEFAULTS.temperature),
    judge: z.enum(REPLAY_JUDGES).default(REPLAY_DEFAULTS.judge),
    judgeModel: z.string().min(1).max(200).optional().describe("Model that judges (default: the agent's upstream model)"),
    margin: marginField,
    requireSignificant: z.boolean().default(false),
    seed: seedField,
    ...rolloutFields,
  })
  .strict();

/** A gate without a `kind` is a labelled one (gates stored before replay gates existed). */
export const gateConfigSchema = z
  .preprocess(
    (v) => (typeof v === "object" && v !== null && !Array.isArray(v) && !("kind" in v) ? { ...v, kind: "labelled" } : v),
    z.discriminatedUnion("kind", [labelledGateSchema, replayGateSchema]),
  )
  .refine((g) => g.rollout !== "canary" || g.canary !== undefined, {
    message: "rollout 'canary' needs canary: {percent, …}",
    path: ["canary"],
  });
export type GateConfig = z.infer<typeof gateConfigSchema>;

/** Capture of proxied exchanges for feedback; off unless asked for. */
export const captureConfigSchema = z
  .object({
    enabled: z.boolean(),
    retentionDays: z.number().int().min(1).max(365).default(30),
    /** Feedback messages one proxy key may send per UTC day; more are refused with 429. */
    feedbackPerKeyPerDay: z.number().int().min(1).max(100_000).default(200),
  })
  .strict();
export type CaptureConfig = z.infer<typeof captureConfigSchema>;
export const CAPTURE_OFF: CaptureConfig = { enabled: false, retentionDays: 30, feedbackPerKeyPerDay: 200 };

/**
 * Scheduled retraining: every `everyHours`, a run warm-started from the active version on
 * `trainingDataset` plus the agent's approved feedback, and/or on the agent's captured exchanges of the
 * last `captures.days` days (unlabelled, so such a run is in no-ground-truth mode, docs/learning.md),
 * followed by gated promotion (the gate evaluates on its own labelled set).
 */
export const scheduleConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    everyHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 30),
    trainingDataset: z.string().min(1).max(200).optional(),
    captures: z
      .object({ days: z.number().int().min(1).max(365) })
      .strict()
      .optional(),
    hyperparams: partialHyperparamsSchema.optional(),
  })
  .strict()
  .refine((s) => s.trainingDataset !== undefined || s.captures !== undefined, "give a trainingDataset, captures, or both");
export type ScheduleConfig = z.infer<typeof scheduleConfigSchema>;
