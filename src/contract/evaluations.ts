import { z } from "@hono/zod-openapi";
import { intervalSchema } from "./common";

export const tokenTotalsSchema = z
  .object({ calls: z.number(), promptTokens: z.number(), completionTokens: z.number(), cachedTokens: z.number() })
  .openapi("TokenTotals");

export const evaluationVersionSchema = z
  .object({
    version: z.number().int(),
    label: z.string(),
    questionsDone: z.number().int(),
    meanAtK: z.number().nullable(),
    passAtK: z.number().nullable(),
    ci95: intervalSchema.nullable(),
    tokens: tokenTotalsSchema.nullable(),
  })
  .openapi("EvaluationVersion");

export const comparisonSchema = z
  .object({ version: z.number().int(), against: z.number().int(), diff: z.number(), ci95: intervalSchema })
  .openapi("Comparison");

export const evaluationSchema = z
  .object({
    id: z.string(),
    agentId: z.string(),
    datasetId: z.string(),
    purpose: z.enum(["manual", "gate", "protocol"]),
    kind: z
      .enum(["labelled", "replay"])
      .openapi({ description: "labelled: Mean@k on a data set; replay: captured requests judged without labels" }),
    replay: z
      .object({
        captures: z.number().int().openapi({ description: "Captured requests replayed (held out, within retention)" }),
        judge: z.enum(["critique", "pairwise"]),
        judgeModel: z.string().nullable(),
      })
      .nullable()
      .openapi({ description: "How a replay is judged; k is then G, the answers per request and version" }),
    runId: z.string().nullable(),
    status: z.string(),
    error: z.string().nullable(),
    params: z.object({
      k: z.number().int(),
      temperature: z.number(),
      seed: z.number().int(),
      chunkSize: z.number().int(),
      maxChunksInFlight: z.number().int(),
    }),
    versions: z.array(evaluationVersionSchema),
    progress: z.object({ questions: z.number().int(), scored: z.number().int(), total: z.number().int() }),
    comparisons: z.array(comparisonSchema),
    paired: comparisonSchema.nullable().openapi({ description: "The comparison, when exactly two versions were evaluated" }),
    questions: z.number().int().nullable(),
    perQuestion: z
      .array(
        z.object({
          idx: z.number().int(),
          sampleId: z.string().nullable().openapi({ description: "The sample's id, or a replay's captured request id" }),
          rewards: z.record(z.string(), z.array(z.number())),
        }),
      )
      .optional()
      .openapi({ description: "With ?detail=1: rewards per question and version label" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Evaluation");
export type Evaluation = z.infer<typeof evaluationSchema>;

export const evaluationRecoverySchema = z
  .object({
    id: z.string(),
    evaluation: z.string(),
    chunks: z.number().int(),
    reports: z.number().int(),
    recreated: z.number().int(),
    restarted: z.number().int(),
  })
  .openapi("EvaluationRecovery");
export type EvaluationRecovery = z.infer<typeof evaluationRecoverySchema>;
