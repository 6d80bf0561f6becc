type E = { UPSTREAM: string };
export default {
  async fetch(request: Request, env: E, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok");
    const mode = url.searchParams.get("mode");
    const upstream = await fetch(`${env.UPSTREAM}/chat/completions`, { method: "POST", body: "{}", signal: request.signal });
    request.signal.addEventListener("abort", () => console.log("SIG abort", mode));
    if (mode === "plain") return new Response(upstream.body, upstream);
    const [a, b] = upstream.body!.tee();
    const reader = b.getReader();
    let stop = false;
    ctx.waitUntil((async () => { for (;;) { const r = await reader.read(); if (r.done || stop) break; } console.log("watch end", mode); })());
    const cancel = () => { console.log("onGone", mode); stop = true; reader.cancel().catch(() => {}); };
    if (mode === "tee") return new Response(a, upstream);
    if (mode === "identity") {
      const { readable, writable } = new IdentityTransformStream();
      a.pipeTo(writable).then(() => console.log("pipe done", mode), cancel);
      return new Response(readable, upstream);
    }
    if (mode === "js") {
      const r = a.getReader();
      const out = new ReadableStream({ async pull(c) { const x = await r.read(); if (x.done) c.close(); else c.enqueue(x.value); }, cancel(reason) { cancel(); return r.cancel(reason); } });
      return new Response(out, upstream);
    }
    return new Response("?", { status: 400 });
  },
} satisfies ExportedHandler<E>;
