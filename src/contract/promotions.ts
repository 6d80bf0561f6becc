import { z } from "@hono/zod-openapi";
import { intervalSchema } from "./common";
import { canaryFiguresSchema } from "./canaryFigures";

export const gateFiguresSchema = z
  .object({
    candidateVersion: z.number().int(),
    activeVersion: z.number().int(),
    candidateMeanAtK: z.number(),
    activeMeanAtK: z.number(),
    diff: z.number().openapi({ description: "candidate − active" }),
    ci: intervalSchema,
    questions: z.number().int(),
    k: z.number().int(),
    margin: z.number(),
  })
  .openapi("GateFigures");

export const promotionSchema = z
  .object({
    id: z.string(),
    agentId: z.string(),
    decidedBy: z.enum(["manual", "gate", "schedule", "canary"]),
    decision: z.enum(["promoted", "refused", "canary_started", "canary_ramped", "rolled_back", "ended"]).openapi({
      description:
        "canary_started: the candidate went to part of the traffic; canary_ramped: that share changed; rolled_back / ended: a canary closed without promotion",
    }),
    fromVersion: z.number().int().nullable(),
    toVersion: z.number().int().nullable(),
    runId: z.string().nullable(),
    evaluationId: z.string().nullable(),
    figures: z
      .union([gateFiguresSchema, canaryFiguresSchema])
      .nullable()
      .openapi({ description: "The gate's figures, or a canary's (null for a manual decision)" }),
    reason: z.string(),
    warnings: z.array(z.string()).openapi({ description: "What the decision went ahead despite, e.g. a version learned on another model" }),
    createdAt: z.string(),
  })
  .openapi("Promotion");
export type Promotion = z.infer<typeof promotionSchema>;

export const promotionListSchema = z
  .object({ active: z.number().int().nullable(), data: z.array(promotionSchema) })
  .openapi("PromotionList");
