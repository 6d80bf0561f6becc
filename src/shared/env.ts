/** Reads a Worker var or secret by a name chosen at runtime (an agent's `upstreamKeySecret`). */
export function envString(env: Env, name: string): string | undefined {
  const value: unknown = Reflect.get(env, name);
  return typeof value === "string" && value !== "" ? value : undefined;
}
