/** Estimated spend from token counts and the configured prices (USD per million tokens). */
export type Prices = { PRICE_PROMPT_PER_MTOK?: string; PRICE_COMPLETION_PER_MTOK?: string };

export function runCost(
  usage: readonly { promptTokens: number; completionTokens: number }[],
  prices: Prices,
): { usd: number; promptPerMTok: number; completionPerMTok: number } | null {
  const prompt = Number(prices.PRICE_PROMPT_PER_MTOK);
  const completion = Number(prices.PRICE_COMPLETION_PER_MTOK);
  if (!prices.PRICE_PROMPT_PER_MTOK || !prices.PRICE_COMPLETION_PER_MTOK || !Number.isFinite(prompt) || !Number.isFinite(completion))
    return null;
  const tokens = usage.reduce((acc, u) => ({ p: acc.p + u.promptTokens, c: acc.c + u.completionTokens }), { p: 0, c: 0 });
  return { usd: (tokens.p * prompt + tokens.c * completion) / 1_000_000, promptPerMTok: prompt, completionPerMTok: completion };
}
