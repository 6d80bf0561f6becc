/**
 * Per-key request rates: one Rate Limiting binding per tier (wrangler.toml `[[ratelimits]]`, period
 * 60 s), keyed by the proxy key's id. The binding's limit is fixed per binding, so a key names its
 * tier by `requestsPerMinute` (docs/serving.md, "Limits").
 */
export const RATE_TIERS = { 10: "KEY_RPM_10", 60: "KEY_RPM_60", 600: "KEY_RPM_600", 6000: "KEY_RPM_6000", 60000: "KEY_RPM_60000" } as const;

export type RateTier = keyof typeof RATE_TIERS;

export const RATE_TIER_VALUES = Object.keys(RATE_TIERS).map(Number) as RateTier[];

export const isRateTier = (n: number): n is RateTier => n in RATE_TIERS;

/** The binding's window: a refused request can succeed again within this many seconds. */
export const RATE_PERIOD_SECONDS = 60;

/** True when the key may send one more request now; a missing binding (misconfigured deploy) refuses nothing. */
export async function withinRate(env: Env, keyId: string, tier: RateTier): Promise<boolean> {
  const limiter = env[RATE_TIERS[tier]] as RateLimit | undefined;
  if (!limiter) return true;
  const { success } = await limiter.limit({ key: keyId });
  return success;
}
