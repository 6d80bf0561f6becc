/**
 * The local secrets file (`.dev.vars`, gitignored): read ADMIN_TOKEN and ENCRYPTION_KEY from it, or
 * create it with fresh random values when it is missing or lacks them.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export type DevVars = { ADMIN_TOKEN: string; ENCRYPTION_KEY: string };

/** Parses `KEY=value` lines (optionally quoted values, `#` comments). */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m?.[1]) continue;
    let value = (m[2] ?? "").trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) value = value.slice(1, -1);
    vars[m[1]] = value;
  }
  return vars;
}

/** Returns the secrets and whether any had to be created (appended to the file, which is created if needed). */
export function ensureDevVars(path: string): { vars: DevVars; created: string[] } {
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const parsed = parseDevVars(text);
  const created: string[] = [];
  const fresh: Record<keyof DevVars, () => string> = {
    ADMIN_TOKEN: () => `tfgrpo_admin_${randomBytes(24).toString("base64url")}`,
    ENCRYPTION_KEY: () => randomBytes(32).toString("base64"),
  };
  const lines: string[] = [];
  for (const key of Object.keys(fresh) as (keyof DevVars)[]) {
    if (!parsed[key]) {
      parsed[key] = fresh[key]();
      created.push(key);
      lines.push(`${key}=${parsed[key]}`);
    }
  }
  if (created.length) {
    mkdirSync(dirname(path), { recursive: true });
    const prefix =
      text === "" ? "# Local secrets for wrangler dev (gitignored); created by `npm start`.\n" : text.endsWith("\n") ? "" : "\n";
    writeFileSync(path, `${text}${prefix}${lines.join("\n")}\n`, { mode: 0o600 });
  }
  return { vars: { ADMIN_TOKEN: parsed.ADMIN_TOKEN ?? "", ENCRYPTION_KEY: parsed.ENCRYPTION_KEY ?? "" }, created };
}
