/** Reads a Worker var or secret by a name chosen at runtime (an agent's `upstreamKeySecret`). */
export function envString(env: Env, name: string): string | undefined {
  const value: unknown = Reflect.get(env, name);
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * True when the Worker runs for local development (`LOCAL_DEVELOPMENT=1`: set by `npm start`, the
 * test configurations and scripts/lib/wranglerDev.ts). It allows plain-http and loopback upstreams.
 */
export function isLocalDevelopment(env: Env): boolean {
  return envString(env, "LOCAL_DEVELOPMENT") === "1";
}
