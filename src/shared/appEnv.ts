/** Hono environment shared by every router: the Worker bindings and per-request variables. */
export type AppEnv = {
  Bindings: Env;
  /** `errorShape`: set on routes whose clients expect Anthropic's error shape instead of OpenAI's. */
  Variables: { requestId: string; errorShape?: "anthropic" };
};
