/** Bare pass-through: same upstream call shape as the real endpoint, none of its logic. */
type PassthroughEnv = { UPSTREAM: string };

export default {
  async fetch(request: Request, env: PassthroughEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok");
    const upstream = await fetch(`${env.UPSTREAM}${url.pathname.replace(/^\/v1/, "")}`, {
      method: request.method,
      headers: { "content-type": "application/json", accept: request.headers.get("accept") ?? "application/json" },
      body: request.body,
      signal: request.signal,
    });
    return new Response(upstream.body, upstream);
  },
} satisfies ExportedHandler<PassthroughEnv>;
