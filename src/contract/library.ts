import { z } from "@hono/zod-openapi";

import { nativeLibraryFileSchema, referenceLibraryFileSchema } from "../core/libraryFile";

export const provenanceSchema = z
  .object({
    runId: z.string().nullable(),
    epoch: z.number().int().nullable(),
    batch: z.number().int().nullable(),
    op: z.string(),
    source: z.enum(["manual", "imported"]).optional().openapi({ description: "Made by hand or by an import (absent: learned)" }),
    author: z.string().optional(),
    reason: z.string().optional(),
    importedId: z.string().optional().openapi({ description: "The item's id in the imported file, when it was given another" }),
  })
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
    source: z.enum(["learned", "manual", "imported"]).openapi({ description: "Made by a training run, by hand, or by an import" }),
    author: z.string().nullable().openapi({ description: "Who made a manual or imported version" }),
    model: z.string().nullable().openapi({ description: "The upstream model it was learned with (null: not recorded)" }),
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
    meta: libraryVersionRowSchema.nullable().openapi({ description: "How the version was made (null for version 0, the empty library)" }),
    items: z.array(experienceSchema),
    rendered: z.string().openapi({ description: "The library as it is injected" }),
  })
  .openapi("LibraryVersion");
export type LibraryVersion = z.infer<typeof libraryVersionSchema>;

/** A version made by hand or by an import, with what the admin should know before serving it. */
export const libraryVersionCreatedSchema = libraryVersionSchema
  .extend({ warnings: z.array(z.string()).openapi({ description: "E.g. a version learned with another model than the agent serves" }) })
  .openapi("LibraryVersionCreated");
export type LibraryVersionCreated = z.infer<typeof libraryVersionCreatedSchema>;

/** An exported version: our format (with provenance and the model) or the reference's experiences format (id → text). */
export const libraryFileSchema = z
  .union([nativeLibraryFileSchema, referenceLibraryFileSchema])
  .openapi("LibraryFile", { description: "format=native: tfgrpo-library JSON; format=reference: an object mapping id → text" });

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
