import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomEncryptionKey, startWranglerDev } from "../scripts/lib/wranglerDev";

const closes: { at: number; finished: boolean }[] = [];
const server = createServer((req, res) => {
  req.resume();
  let i = 0;
  let finished = false;
  res.writeHead(200, { "content-type": "text/event-stream" });
  const timer = setInterval(() => {
    if (i >= 20) { clearInterval(timer); finished = true; res.end(); return; }
    if (i < 2 || i >= 19) res.write(`data: {"i":${i}}\n\n`);
    i++;
  }, 300);
  res.write(`data: {"i":${i++}}\n\n`);
  res.on("close", () => { clearInterval(timer); closes.push({ at: Date.now(), finished }); });
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const up = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
const dev = await startWranglerDev({ vars: { ADMIN_TOKEN: "t", ENCRYPTION_KEY: randomEncryptionKey() }, verbose: !!process.env.V });
const admin = async (path: string, body: unknown) => (await (await fetch(`${dev.url}/api${path}`, { method: "POST", headers: { authorization: "Bearer t", "content-type": "application/json" }, body: JSON.stringify(body) })).json()) as { key: string };
await admin("/agents", { name: "slow", upstream: { baseUrl: up, model: "sim-1" } });
const { key } = await admin("/agents/slow/keys", {});
for (const path of ["/v1/chat/completions", "/v1/chat/completions"]) {
  const before = closes.length;
  const c = new AbortController();
  const res = await fetch(`${dev.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "sim-1", stream: true, messages: [{ role: "user", content: "hi" }] }), signal: c.signal });
  console.log(res.status);
  const reader = res.body!.getReader();
  await reader.read(); await reader.read();
  const t = Date.now();
  c.abort();
  while (closes.length === before && Date.now() - t < 8000) await new Promise((r) => setTimeout(r, 20));
  console.log(path, "closed after", closes[before] ? closes[before].at - t : "never", closes[before]);
}
await dev.stop();
server.close();
