/**
 * When a run stops because its upstream keeps failing (docs/security.md, "Failing upstreams"): every
 * group of the last batch was dropped for an upstream failure (non-retryable ones end a group at once;
 * retryable ones after the client's and the step's retries). Another batch would fail the same way,
 * so the run ends with the reason instead of retrying for hours.
 */
export function upstreamFailure(groups: readonly { status: string; reason: string | null }[]): string | null {
  if (groups.length === 0) return null;
  if (!groups.every((g) => g.status === "dropped" && g.reason !== null && /\bupstream\b/i.test(g.reason))) return null;
  return `every group of the last batch failed at the upstream (${groups.length} of ${groups.length}); last: ${groups.at(-1)?.reason}`;
}
