import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startWranglerDev } from "../scripts/lib/wranglerDev";

const closes: { at: number; finished: boolean }[] = [];
const server = createServer((req, res) => {
  req.resume();
  let i = 0;
  let finished = false;
  res.writeHead(200, { "content-type": "text/event-stream" });
  const timer = setInterval(() => {
    if (i >= 20) { clearInterval(timer); finished = true; res.end(); return; }
    res.write(`data: {"i":${i++}}\n\n`);
  }, 300);
  res.write(`data: {"i":${i++}}\n\n`);
  res.on("close", () => { clearInterval(timer); closes.push({ at: Date.now(), finished }); });
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const up = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
const dev = await startWranglerDev({ config: ".scratch/pt/wrangler.toml", migrateBinding: null, vars: { UPSTREAM: up }, verbose: !!process.env.V });
for (const mode of ["plain", "tee", "identity", "js"]) {
  const before = closes.length;
  const c = new AbortController();
  const res = await fetch(`${dev.url}/v1/chat/completions?mode=${mode}`, { method: "POST", body: "{}", signal: c.signal });
  const reader = res.body!.getReader();
  await reader.read(); await reader.read();
  const t = Date.now();
  c.abort();
  while (closes.length === before && Date.now() - t < 8000) await new Promise((r) => setTimeout(r, 20));
  console.log(mode, "closed after", closes[before] ? closes[before].at - t : "never", closes[before]);
}
await dev.stop();
server.close();
