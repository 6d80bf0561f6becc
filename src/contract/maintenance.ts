import { z } from "@hono/zod-openapi";

export const resealReportSchema = z
  .object({
    keyId: z.string().openapi({ description: "Id of the current ENCRYPTION_KEY, which every stored key is now sealed with" }),
    resealed: z.number().int(),
    alreadyCurrent: z.number().int(),
    failed: z.array(z.object({ agentId: z.string(), reason: z.string() })),
  })
  .openapi("ResealReport");
export type ResealReport = z.infer<typeof resealReportSchema>;
