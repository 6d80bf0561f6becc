/** Hono environment shared by every router: the Worker bindings and per-request variables. */
export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string };
};
