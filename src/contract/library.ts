import { z } from "@hono/zod-openapi";

export const provenanceSchema = z
  .object({ runId: z.string().nullable(), epoch: z.number().int().nullable(), batch: z.number().int().nullable(), op: z.string() })
  .openapi("Provenance");

/** Credit counters by stable id (docs/learning.md, "Credit per experience"). */
export const itemStatsSchema = z
  .object({ cited: z.number().int(), helpful: z.number().int(), harmful: z.number().int(), batches: z.number().int() })
  .openapi("ItemStats");

export const experienceSchema = z
  .object({ id: z.string(), name: z.string(), text: z.string(), provenance: z.array(provenanceSchema), stats: itemStatsSchema.optional() })
  .openapi("Experience");
export type Experience = z.infer<typeof experienceSchema>;

export const libraryVersionRowSchema = z
  .object({
    agentId: z.string(),
    version: z.number().int(),
    parentVersion: z.number().int().nullable(),
    runId: z.string().nullable(),
    originKey: z.string(),
    itemCount: z.number().int(),
    note: z.string(),
    createdAt: z.string(),
  })
  .openapi("LibraryVersionRow");
export type LibraryVersionRow = z.infer<typeof libraryVersionRowSchema>;

export const libraryVersionListSchema = z
  .object({ active: z.number().int().nullable(), data: z.array(libraryVersionRowSchema) })
  .openapi("LibraryVersionList");

export const libraryVersionSchema = z
  .object({
    version: z.number().int(),
    items: z.array(experienceSchema),
    rendered: z.string().openapi({ description: "The library as it is injected" }),
  })
  .openapi("LibraryVersion");
export type LibraryVersion = z.infer<typeof libraryVersionSchema>;

export const libraryDiffSchema = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    added: z.array(experienceSchema),
    updated: z.array(z.object({ id: z.string(), before: experienceSchema, after: experienceSchema })),
    deleted: z.array(experienceSchema),
    unchanged: z.number().int(),
  })
  .openapi("LibraryDiff");
export type LibraryDiff = z.infer<typeof libraryDiffSchema>;
