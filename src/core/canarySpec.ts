import { z } from "zod";

/**
 * What an admin (or a gate) asks of a canary (docs/serving.md, "Canary"): which version, to what share
 * of the traffic, sticky by what, and the thresholds of the decision rule (canaryDecision.ts). Shared by
 * the admin API and the gate's `rollout: "canary"`, so both accept exactly the same specs.
 */

/** Headers that carry credentials: a canary keyed on them would be keyed on a secret; `key` does that job. */
const SECRET_HEADERS = new Set(["authorization", "x-api-key", "cookie", "proxy-authorization"]);

/** `key` (the proxy key's id) or `header:<name>` (that request header's value, e.g. a user id); header names are case-insensitive. */
export const stickyBySchema = z
  .string()
  .max(80)
  .regex(/^(key|header:[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64})$/, "must be 'key' or 'header:<header name>'")
  .refine(
    (s) => !SECRET_HEADERS.has(s.slice("header:".length).toLowerCase()),
    "must not name a header that carries credentials; use 'key'",
  );

export type StickyBy = { kind: "key" } | { kind: "header"; name: string };

export function parseStickyBy(s: string): StickyBy {
  return s.startsWith("header:") ? { kind: "header", name: s.slice("header:".length).toLowerCase() } : { kind: "key" };
}

/** The thresholds of the decision rule, with their defaults. */
export const canaryRulesSchema = z
  .object({
    minRequests: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(100)
      .describe("Requests with feedback each arm needs before the candidate can be promoted"),
    margin: z
      .number()
      .min(0)
      .max(1)
      .default(0.02)
      .describe("Promote when the candidate's mean reward is, with 95% confidence, not worse than the active's by more than this"),
    maxRewardDrop: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .describe("Roll back when the candidate's mean reward is, with 95% confidence, worse than the active's by more than this"),
    maxErrorIncrease: z
      .number()
      .min(0)
      .max(1)
      .default(0.02)
      .describe("Roll back when the candidate's error rate is, with 95% confidence, above the active's by more than this"),
    minSamples: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(10)
      .describe("Requests (for errors) and feedback (for rewards) each arm needs before a rollback is considered"),
  })
  .strict();
export type CanaryRules = z.infer<typeof canaryRulesSchema>;

export const canaryPercentSchema = z
  .number()
  .gt(0, "must be greater than 0 (a canary that serves nobody can never be judged)")
  .lt(100, "must be less than 100 (the active version is the comparison; promote to serve everyone)")
  .describe("Share of the traffic (of sticky values) served the candidate, in percent");

/** A canary as the gate starts it: everything but the version, which is the run's final one. */
export const canaryRolloutSchema = canaryRulesSchema
  .extend({ percent: canaryPercentSchema, stickyBy: stickyBySchema.default("key") })
  .strict();
export type CanaryRollout = z.infer<typeof canaryRolloutSchema>;

/** A canary as an admin starts it. */
export const canarySpecSchema = canaryRolloutSchema
  .extend({ version: z.number().int().min(1).describe("The candidate library version") })
  .strict();
export type CanarySpec = z.infer<typeof canarySpecSchema>;

export const rulesOf = (s: CanaryRules): CanaryRules => ({
  minRequests: s.minRequests,
  margin: s.margin,
  maxRewardDrop: s.maxRewardDrop,
  maxErrorIncrease: s.maxErrorIncrease,
  minSamples: s.minSamples,
});
