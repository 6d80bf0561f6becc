// Verifier registry: a validated spec says which verifier scores a rollout, and `verify` runs the synchronous ones.
import { z } from "zod";
import { verifyChoice } from "./choice";
import { verifyExact } from "./exact";
import { verifyMath } from "./math";
import { verifyNumeric } from "./numeric";
import { regexPatternProblem, verifyRegex } from "./regex";

export type { VerifyInput, VerifyResult } from "./result";
import type { VerifyInput, VerifyResult } from "./result";

export const verifierSpecSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("math") }),
  z.object({ kind: z.literal("exact") }),
  z.object({
    kind: z.literal("numeric"),
    options: z.object({ absTol: z.number().nonnegative().optional(), relTol: z.number().nonnegative().optional() }).optional(),
  }),
  z.object({
    kind: z.literal("regex"),
    options: z
      .object({
        pattern: z.string().min(1).optional(),
        flags: z
          .string()
          .regex(/^[imsu]*$/)
          .optional(),
      })
      .superRefine((o, ctx) => {
        const problem = o.pattern === undefined ? null : regexPatternProblem(o.pattern, o.flags);
        if (problem) ctx.addIssue({ code: "custom", path: ["pattern"], message: problem });
      })
      .optional(),
  }),
  z.object({ kind: z.literal("choice") }),
  z.object({ kind: z.literal("judge"), options: z.object({ objective: z.string().optional() }).optional() }),
]);

export type VerifierSpec = z.infer<typeof verifierSpecSchema>;
export type JudgeSpec = Extract<VerifierSpec, { kind: "judge" }>;

export function isJudge(spec: VerifierSpec): spec is JudgeSpec {
  return spec.kind === "judge";
}

/** Scores one response. Never throws for bad responses (reward 0 + critique); throws for a judge spec, which is async. */
export function verify(spec: VerifierSpec, input: VerifyInput): VerifyResult {
  const { response, answer } = input;
  switch (spec.kind) {
    case "math":
      return verifyMath(response, answer);
    case "exact":
      return verifyExact(response, answer);
    case "numeric":
      return verifyNumeric(response, answer, spec.options);
    case "regex":
      return verifyRegex(response, answer, spec.options);
    case "choice":
      return verifyChoice(response, answer);
    case "judge":
      throw new Error(
        'verify(): the "judge" verifier calls an LLM and is asynchronous; use the judge runner (buildJudgePrompt + parseJudgeReply) instead.',
      );
  }
}
