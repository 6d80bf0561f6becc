/**
 * The dashboard's client of the admin API. Every response type is inferred from the API's own schemas
 * (src/contract), so the dashboard shows only what the API says. The session cookie goes along by
 * itself (same origin); every write carries the CSRF header (docs/dashboard.md §2).
 */
import type { z } from "zod";
import type {
  Agent,
  BuiltinDataset,
  CanaryChange,
  CanaryState,
  LiveMetrics,
  Dataset,
  Evaluation,
  Group,
  LibraryDiff,
  LibraryVersion,
  LibraryVersionCreated,
  LibraryVersionRow,
  ProxyKey,
  Rollout,
  Run,
  Sample,
  Usage,
  promotionListSchema,
  queuedSchema,
  recoverySchema,
} from "../src/contract";

export type {
  Agent,
  BuiltinDataset,
  CanaryState,
  Dataset,
  Evaluation,
  Group,
  LibraryDiff,
  LibraryVersion,
  LibraryVersionCreated,
  LibraryVersionRow,
  LiveMetrics,
  ProxyKey,
  Rollout,
  Run,
  Sample,
  Usage,
};
export type PromotionList = z.infer<typeof promotionListSchema>;
type Queued = z.infer<typeof queuedSchema>;
type Recovery = z.infer<typeof recoverySchema>;
type List<T> = { data: T[] };

export const CSRF_HEADER = "x-tfgrpo-csrf";

/** A failed API call, with the API's own message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

/** Called when the API says the session is gone; the shell shows the sign-in form and keeps the page. */
let onSignedOut: () => void = () => {};
export const whenSignedOut = (fn: () => void): void => {
  onSignedOut = fn;
};

async function failure(res: Response): Promise<ApiFailure> {
  let message = `${res.status} ${res.statusText}`;
  let code: string | null = null;
  try {
    const body = (await res.json()) as { error?: { message?: unknown; code?: unknown } };
    if (typeof body.error?.message === "string") message = body.error.message;
    if (typeof body.error?.code === "string") code = body.error.code;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiFailure(res.status, message, code);
}

/** `raw`: a body sent as it is (a library file), not serialised again. */
async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal, raw?: string): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers[CSRF_HEADER] = "1";
  if (body !== undefined || raw !== undefined) headers["content-type"] = "application/json";
  const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const res = await fetch(path, { method, headers, body: payload, credentials: "same-origin", signal });
  if (!res.ok) {
    const error = await failure(res);
    if (res.status === 401 && !path.startsWith("/auth/")) onSignedOut();
    throw error;
  }
  return (await res.json()) as T;
}

const get = <T>(path: string, signal?: AbortSignal) => request<T>("GET", path, undefined, signal);
const seg = encodeURIComponent;
const query = (params: Record<string, string | number | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
};

export const api = {
  session: (signal?: AbortSignal) => get<{ signedIn: boolean; expiresAt: string | null }>("/auth/session", signal),
  signIn: (token: string) => request<{ signedIn: boolean; expiresAt: string }>("POST", "/auth/session", { token }),
  signOut: () => request<{ signedIn: boolean }>("DELETE", "/auth/session"),

  agents: (signal?: AbortSignal) => get<List<Agent>>("/api/agents", signal),
  agent: (agent: string, signal?: AbortSignal) => get<Agent>(`/api/agents/${seg(agent)}`, signal),
  keys: (agent: string, signal?: AbortSignal) => get<List<ProxyKey>>(`/api/agents/${seg(agent)}/keys`, signal),
  usage: (agent: string, limit: number, signal?: AbortSignal) => get<Usage>(`/api/agents/${seg(agent)}/usage${query({ limit })}`, signal),

  versions: (agent: string, signal?: AbortSignal) =>
    get<{ active: number | null; data: LibraryVersionRow[] }>(`/api/agents/${seg(agent)}/library/versions`, signal),
  version: (agent: string, version: number, signal?: AbortSignal) => get<LibraryVersion>(`/api/agents/${seg(agent)}/library/versions/${version}`, signal),
  diff: (agent: string, from: number, to: number, signal?: AbortSignal) =>
    get<LibraryDiff>(`/api/agents/${seg(agent)}/library/diff${query({ from, to })}`, signal),
  promote: (agent: string, version: number) => request<unknown>("POST", `/api/agents/${seg(agent)}/promote`, { version }),
  editVersion: (agent: string, body: { base: number; operations: unknown[]; author: string; reason: string }) =>
    request<LibraryVersionCreated>("POST", `/api/agents/${seg(agent)}/library/versions`, body),
  importVersion: (agent: string, file: string, who: { author: string; reason: string }) =>
    request<LibraryVersionCreated>("POST", `/api/agents/${seg(agent)}/library/import${query(who)}`, undefined, undefined, file),
  /** Where a version downloads as a file (the API answers with Content-Disposition: attachment). */
  exportUrl: (agent: string, version: number, format: "native" | "reference") => `/api/agents/${seg(agent)}/library/${version}/export${query({ format })}`,
  promotions: (agent: string, signal?: AbortSignal) => get<PromotionList>(`/api/agents/${seg(agent)}/promotions`, signal),
  canary: (agent: string, signal?: AbortSignal) => get<CanaryState>(`/api/agents/${seg(agent)}/canary`, signal),
  rampCanary: (agent: string, percent: number) =>
    request<CanaryChange>("PATCH", `/api/agents/${seg(agent)}/canary`, { percent, reason: "ramped from the dashboard" }),
  endCanary: (agent: string) => request<CanaryChange>("DELETE", `/api/agents/${seg(agent)}/canary${query({ reason: "ended from the dashboard" })}`),
  live: (agent: string, signal?: AbortSignal) => get<LiveMetrics>(`/api/agents/${seg(agent)}/versions/live`, signal),

  runs: (agent: string | undefined, limit: number, signal?: AbortSignal) => get<List<Run>>(`/api/runs${query({ agent, limit })}`, signal),
  run: (run: string, signal?: AbortSignal) => get<Run>(`/api/runs/${seg(run)}`, signal),
  cancelRun: (run: string) => request<Queued>("POST", `/api/runs/${seg(run)}/cancel`),
  recoverRun: (run: string) => request<Recovery>("POST", `/api/runs/${seg(run)}/recover`),
  groups: (run: string, filter: { epoch?: number; batch?: number; sample?: number }, signal?: AbortSignal) =>
    get<List<Group>>(`/api/runs/${seg(run)}/groups${query(filter)}`, signal),
  rollouts: (run: string, filter: { epoch: number; sample: number }, signal?: AbortSignal) =>
    get<List<Rollout>>(`/api/runs/${seg(run)}/rollouts${query({ ...filter, limit: 500 })}`, signal),

  evaluations: (agent: string, limit: number, signal?: AbortSignal) => get<List<Evaluation>>(`/api/evaluations${query({ agent, limit })}`, signal),
  evaluation: (id: string, page: { offset: number; limit: number } | null, signal?: AbortSignal) =>
    get<Evaluation>(`/api/evaluations/${seg(id)}${page ? query({ detail: 1, ...page }) : ""}`, signal),

  datasets: (signal?: AbortSignal) => get<List<Dataset>>("/api/datasets", signal),
  dataset: (name: string, signal?: AbortSignal) => get<Dataset>(`/api/datasets/${seg(name)}`, signal),
  samples: (name: string, offset: number, limit: number, signal?: AbortSignal) =>
    get<{ data: Sample[]; offset: number; limit: number; total: number }>(`/api/datasets/${seg(name)}/samples${query({ offset, limit })}`, signal),
  builtins: (signal?: AbortSignal) => get<List<BuiltinDataset>>("/api/datasets/builtin", signal),
  loadBuiltin: (name: string) => request<Dataset>("POST", `/api/datasets/builtin/${seg(name)}`),
};

/**
 * Uploads a data set file with progress (fetch reports no upload progress; XMLHttpRequest does).
 * Resolves with the created data set or rejects with the API's message.
 */
export function uploadDataset(file: File, name: string, description: string, onProgress: (fraction: number) => void): Promise<Dataset> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/datasets${query({ name, description: description || undefined })}`);
    xhr.setRequestHeader(CSRF_HEADER, "1");
    xhr.setRequestHeader("content-type", /\.json$/i.test(file.name) ? "application/json" : "application/x-ndjson");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body as Dataset);
        return;
      }
      const error = (body as { error?: { message?: string; code?: string } } | null)?.error;
      if (xhr.status === 401) onSignedOut();
      reject(new ApiFailure(xhr.status, error?.message ?? `upload failed (${xhr.status})`, error?.code ?? null));
    });
    xhr.addEventListener("error", () => reject(new ApiFailure(0, "upload failed: the connection broke", null)));
    xhr.send(file);
  });
}
