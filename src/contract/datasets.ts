import { z } from "@hono/zod-openapi";

export const datasetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    source: z.enum(["upload", "builtin", "feedback"]),
    description: z.string(),
    attribution: z.string().nullable(),
    sampleCount: z.number().int(),
    createdAt: z.string(),
  })
  .openapi("Dataset");
export type Dataset = z.infer<typeof datasetSchema>;

export const sampleSchema = z
  .object({
    idx: z.number().int().openapi({ description: "0-based position in the upload" }),
    id: z.string(),
    question: z.string(),
    answer: z.string(),
    extras: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("Sample");
export type Sample = z.infer<typeof sampleSchema>;

export const builtinDatasetSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    attribution: z.string(),
    rows: z.number().int(),
    loaded: z
      .object({ id: z.string(), name: z.string() })
      .nullable()
      .openapi({ description: "The data set already loaded under this name, if any" }),
  })
  .openapi("BuiltinDataset");
export type BuiltinDataset = z.infer<typeof builtinDatasetSchema>;
