/** What every verifier returns, and what it is given. */
export interface VerifyResult {
  /** In [0, 1]. */
  reward: number;
  critique?: string;
  /** The answer the verifier read from the response, or null if none. */
  extracted?: string | null;
}

export interface VerifyInput {
  response: unknown;
  answer: unknown;
  question?: string;
}
