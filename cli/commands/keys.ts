import { Command } from "commander";
import type { ProxyKey, ResealReport } from "../adminClient";
import { context, enc } from "../connection";
import { out, table } from "../output";

export function keysCommand(): Command {
  const cmd = new Command("keys").description("proxy keys of an agent (for /v1/chat/completions)");

  cmd
    .command("create")
    .description("create a proxy key; the secret is shown only this once")
    .argument("<agent>", "agent name or id")
    .option("--name <name>", "a label for the key")
    .addHelpText("after", "\nExample:\n  tfgrpo keys create math --name laptop")
    .action(async (agent: string, o: { name?: string }, c: Command) => {
      const { api, json } = context(c);
      const key = await api.post<ProxyKey & { key: string }>(`/agents/${enc(agent)}/keys`, o.name ? { name: o.name } : {});
      out(json, key, () => `${key.key}\n(key ${key.id}; store it now: it is not shown again)`);
    });

  cmd
    .command("list")
    .description("list an agent's keys (never the secret part)")
    .argument("<agent>", "agent name or id")
    .action(async (agent: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const { data } = await api.get<{ data: ProxyKey[] }>(`/agents/${enc(agent)}/keys`);
      out(json, data, () =>
        table(data, [
          ["id", (k) => k.id],
          ["prefix", (k) => k.prefix],
          ["name", (k) => k.name],
          ["created", (k) => k.createdAt],
          ["last used", (k) => k.lastUsedAt],
        ]),
      );
    });

  cmd
    .command("revoke")
    .description("revoke a key")
    .argument("<agent>", "agent name or id")
    .argument("<key>", "key id")
    .action(async (agent: string, key: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const res = await api.del<{ id: string; revoked: boolean }>(`/agents/${enc(agent)}/keys/${enc(key)}`);
      out(json, res, () => `revoked ${res.id}`);
    });

  cmd
    .command("reseal")
    .description("re-encrypt every stored upstream key under the current ENCRYPTION_KEY (the key rotation step, docs/security.md)")
    .addHelpText(
      "after",
      "\nRotation:\n  wrangler secret put ENCRYPTION_KEY_PREVIOUS   # the old key\n  wrangler secret put ENCRYPTION_KEY            # openssl rand -base64 32\n  tfgrpo keys reseal\n  wrangler secret delete ENCRYPTION_KEY_PREVIOUS",
    )
    .action(async (_o: unknown, c: Command) => {
      const { api, json } = context(c);
      const res = await api.post<ResealReport>("/maintenance/reseal-keys", {});
      out(json, res, () =>
        [
          `key ${res.keyId}: ${res.resealed} re-encrypted, ${res.alreadyCurrent} already current`,
          ...res.failed.map((f) => `FAILED ${f.agentId}: ${f.reason}`),
        ].join("\n"),
      );
      if (res.failed.length > 0) process.exitCode = 1;
    });

  return cmd;
}
