/**
 * Connection settings and the admin client for the CLI. Settings come from, in order: `--url` /
 * `--token`, the environment (`TFGRPO_URL`, `TFGRPO_TOKEN`), then the config file
 * `~/.config/tfgrpo/config.json` (`{"url": …, "token": …}`; `TFGRPO_CONFIG` names another file).
 * API errors (OpenAI shape) become a `CliError` carrying the API's message.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { AdminApiError, adminClient, type AdminClient, type RequestOptions } from "./adminClient";

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export type GlobalOptions = { url?: string; token?: string; json?: boolean };

export function configPath(): string {
  if (process.env.TFGRPO_CONFIG) return process.env.TFGRPO_CONFIG;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "tfgrpo", "config.json");
}

function readConfig(): { url?: string; token?: string } {
  const path = configPath();
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { url?: unknown; token?: unknown };
    return {
      url: typeof parsed.url === "string" ? parsed.url : undefined,
      token: typeof parsed.token === "string" ? parsed.token : undefined,
    };
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function resolveConnection(opts: GlobalOptions): { url: string; token: string } {
  const file = opts.url && opts.token ? {} : readConfig();
  const url = opts.url ?? process.env.TFGRPO_URL ?? file.url;
  const token = opts.token ?? process.env.TFGRPO_TOKEN ?? file.token;
  if (!url) throw new CliError(`no API URL: pass --url, set TFGRPO_URL, or put {"url": …} in ${configPath()}`);
  if (!token) throw new CliError(`no admin token: pass --token, set TFGRPO_TOKEN, or put {"token": …} in ${configPath()}`);
  try {
    new URL(url);
  } catch {
    throw new CliError(`not a URL: ${url}`);
  }
  return { url, token };
}

/** Turns an API or network failure into a one-line CliError. */
export function cliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof AdminApiError)
    return new CliError(e.status ? `${e.message} (HTTP ${e.status}${e.code ? `, ${e.code}` : ""})` : e.message);
  return new CliError(e instanceof Error ? e.message : String(e));
}

/** The admin client, with every error already a CliError. */
export function client(opts: GlobalOptions): AdminClient {
  const api = adminClient(resolveConnection(opts));
  const wrap = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      throw cliError(e);
    }
  };
  return {
    url: api.url,
    request: <T>(method: string, path: string, o?: RequestOptions) => wrap(api.request<T>(method, path, o)),
    get: <T>(path: string, query?: RequestOptions["query"]) => wrap(api.get<T>(path, query)),
    post: <T>(path: string, body?: unknown, o?: Omit<RequestOptions, "body">) => wrap(api.post<T>(path, body, o)),
    patch: <T>(path: string, body: unknown) => wrap(api.patch<T>(path, body)),
    del: <T>(path: string) => wrap(api.del<T>(path)),
  };
}

/** Global options and the client for an action's command. */
export function context(command: Command): { api: AdminClient; json: boolean; opts: GlobalOptions } {
  const opts = command.optsWithGlobals<GlobalOptions>();
  return { api: client(opts), json: opts.json === true, opts };
}

export const enc = encodeURIComponent;

/** Parses an integer option or argument. */
export function int(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new CliError(`${name} must be an integer ≥ ${min}, got '${value}'`);
    return n;
  };
}

export function num(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new CliError(`${name} must be a number, got '${value}'`);
    return n;
  };
}

/** A library version: a number, or "none"/0 for the empty library. */
export function versionRef(value: string): number | "none" {
  if (value === "none" || value === "0") return "none";
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`a version is a number or "none", got '${value}'`);
  return n;
}
