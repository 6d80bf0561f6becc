import { exports } from "cloudflare:workers";

export const ADMIN = { authorization: "Bearer test-admin-token" };

/** Calls the Worker's own fetch handler as a client would. */
export async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  return exports.default.fetch(new Request(`http://tfgrpo.test${path}`, init));
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export type ErrorShape = { error: { message: string; type: string; code: string | null; param: string | null } };

export function expectErrorShape(body: unknown): asserts body is ErrorShape {
  const e = (body as ErrorShape).error;
  if (!e || typeof e.message !== "string" || typeof e.type !== "string" || !("code" in e) || !("param" in e)) {
    throw new Error(`not an OpenAI error shape: ${JSON.stringify(body)}`);
  }
}
