import { z } from "@hono/zod-openapi";
import { intervalSchema } from "./common";

/** A canary's thresholds (docs/serving.md, "Canary"). */
export const canaryRulesSchema = z
  .object({
    minRequests: z.number().int().openapi({ description: "Requests with feedback each arm needs before a promotion" }),
    margin: z.number().openapi({ description: "Promote when the reward difference's 95% interval stays above −margin" }),
    maxRewardDrop: z.number().openapi({ description: "Roll back when the reward difference's 95% interval lies below −maxRewardDrop" }),
    maxErrorIncrease: z
      .number()
      .openapi({ description: "Roll back when the error-rate difference's 95% interval lies above +maxErrorIncrease" }),
    minSamples: z
      .number()
      .int()
      .openapi({ description: "Requests (errors) and rated requests (rewards) each arm needs before a rollback" }),
  })
  .openapi("CanaryRules");

/** One arm of a canary: the requests it assigned to a version, and the figures with 95% intervals. */
export const canaryArmSchema = z
  .object({
    requests: z.number().int(),
    errors: z.number().int(),
    feedback: z.number().int().openapi({ description: "Requests with a reward from /v1/feedback" }),
    rewardSum: z.number(),
    errorRate: z.number().nullable(),
    errorCi: intervalSchema.nullable().openapi({ description: "Wilson 95% interval" }),
    meanReward: z.number().nullable(),
    rewardCi: intervalSchema.nullable().openapi({ description: "Wilson 95% interval (rewards lie in [0, 1])" }),
  })
  .openapi("CanaryArm");

export const differenceSchema = z
  .object({
    diff: z.number().openapi({ description: "candidate − active" }),
    ci: intervalSchema.openapi({ description: "Newcombe 95% interval of the difference" }),
  })
  .openapi("Difference");

/** The figures a canary decision rests on. */
export const canaryFiguresSchema = z
  .object({
    canaryId: z.string(),
    candidateVersion: z.number().int(),
    activeVersion: z.number().int().openapi({ description: "The version compared with (0: no library)" }),
    percent: z.number(),
    candidate: canaryArmSchema,
    active: canaryArmSchema,
    rewardDiff: differenceSchema.nullable(),
    errorDiff: differenceSchema.nullable(),
    rules: canaryRulesSchema,
  })
  .openapi("CanaryFigures");
