import { z } from "@hono/zod-openapi";

/** The OpenAI error shape, used by every error this service produces. */
export const errorSchema = z
  .object({
    error: z.object({ message: z.string(), type: z.string(), code: z.string().nullable(), param: z.string().nullable() }),
  })
  .openapi("Error");

/** A 95% interval. */
export const intervalSchema = z.object({ low: z.number(), high: z.number() }).openapi("Interval");

/** Reply of a POST that queued a job (run, evaluation). */
export const queuedSchema = z.object({ id: z.string(), status: z.string() }).openapi("Queued");

/** Wraps a list. */
export const listOf = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item) });
