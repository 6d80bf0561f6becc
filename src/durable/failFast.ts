import { NonRetryableError } from "cloudflare:workflows";
import { UpstreamError } from "../llm/client";

/**
 * Runs a step body so that an upstream error that cannot succeed on retry (401, 403, 404, quota…)
 * fails the step at once: the engine's own retries would only repeat it (docs/security.md, "Failing
 * upstreams"). Retryable errors are rethrown as they are, for the step's bounded retries.
 */
export async function failFast<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UpstreamError && !error.retryable) throw new NonRetryableError(error.message);
    throw error;
  }
}
