import { NonRetryableError } from "cloudflare:workflows";
import { UpstreamError } from "../llm/client";
import { PermanentStepError } from "../shared/errors";

/**
 * Runs a step body so that an upstream error that cannot succeed on retry (401, 403, 404, quota…)
 * fails the step at once: the engine's own retries would only repeat it (docs/security.md, "Failing
 * upstreams"); so does a PermanentStepError (e.g. a captured request purged during its replay). Retryable errors are rethrown as they are, for the step's bounded retries.
 */
export async function failFast<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UpstreamError && !error.retryable) throw new NonRetryableError(error.message);
    if (error instanceof PermanentStepError) throw new NonRetryableError(error.message);
    throw error;
  }
}
