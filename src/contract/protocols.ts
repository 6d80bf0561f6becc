import { z } from "@hono/zod-openapi";
import { comparisonSchema } from "./evaluations";
import { intervalSchema } from "./common";

const figuresSchema = z.object({
  questions: z.number().int(),
  k: z.number().int(),
  versions: z.array(
    z.object({
      version: z.number().int(),
      label: z.string(),
      questions: z.number().int(),
      meanAtK: z.number(),
      passAtK: z.number(),
      ci: intervalSchema,
    }),
  ),
  comparisons: z.array(comparisonSchema.omit({ ci95: true }).extend({ ci: intervalSchema })),
});

export const protocolSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    status: z.enum(["running", "completed", "failed"]),
    error: z.string().nullable(),
    params: z.object({
      trainDataset: z.string(),
      evalDatasets: z.array(z.string()),
      k: z.number().int(),
      temperature: z.number(),
      seed: z.number().int(),
      pollSeconds: z.number().int(),
      overrides: z.record(z.string(), z.number()),
      variant: z.enum(["react-code", "no-tools"]).openapi({ description: "react-code: ReAct with the code tool; no-tools: plain chat" }),
    }),
    paper: z.object({
      train: z.object({
        dataset: z.string(),
        epochs: z.number().int(),
        groupSize: z.number().int(),
        batchSize: z.number().int(),
        temperature: z.number(),
      }),
      evaluate: z.object({ datasets: z.array(z.string()), k: z.number().int(), temperature: z.number() }),
      seed: z.number().int(),
      pollSeconds: z.number().int(),
    }),
    run: z.object({ id: z.string(), status: z.string(), latestVersion: z.number().int().nullable() }).nullable(),
    evaluations: z.array(
      z.object({
        id: z.string(),
        datasetId: z.string(),
        status: z.string(),
        versions: z.array(z.number().int()),
        summary: figuresSchema.nullable(),
      }),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Protocol");
export type Protocol = z.infer<typeof protocolSchema>;

export const protocolStartedSchema = z.object({ id: z.string(), runId: z.string(), status: z.string() }).openapi("ProtocolStarted");
