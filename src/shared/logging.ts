import { envString } from "./env";

/** Worker secrets whose values must never reach a log line. */
const SECRET_VARS = ["ADMIN_TOKEN", "ENCRYPTION_KEY", "ENCRYPTION_KEY_PREVIOUS"];
/** Token shapes redacted wherever they appear: bearer tokens, proxy keys, common provider keys. */
const TOKEN_PATTERNS = [/Bearer\s+\S+/gi, /\btfg_[0-9a-f]{8,}\b/gi, /\bsk-[A-Za-z0-9_-]{8,}/g];

/** `text` with every configured secret value and anything shaped like a key replaced by [redacted]. */
export function redact(text: string, env: Env | undefined): string {
  let out = text;
  if (env) {
    const names = [...SECRET_VARS, ...Object.keys(env).filter((k) => k.startsWith("UPSTREAM_KEY_"))];
    for (const name of names) {
      const value = envString(env, name);
      if (value && value.length >= 6) out = out.split(value).join("[redacted]");
    }
  }
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, "[redacted]");
  return out;
}

/**
 * An error as one log line with its context: name, message, the cause's message and the top of the
 * stack, so a server error can be diagnosed from the log; secrets are redacted.
 */
export function describeError(error: unknown, env?: Env): string {
  if (!(error instanceof Error)) return redact(String(error), env);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : "";
  const where =
    error.stack
      ?.split("\n")
      .slice(1, 4)
      .map((l) => l.trim())
      .join(" < ") ?? "";
  return redact(`${error.name}: ${error.message}${cause}${where ? ` at ${where}` : ""}`, env);
}
