import { Command } from "commander";
import type { Agent, Experience, LibraryVersion, LibraryVersionRow } from "../adminClient";
import { CliError, context, enc, int } from "../connection";
import { out, table } from "../output";

type Diff = {
  from: number;
  to: number;
  added: Experience[];
  updated: { id: string; before: Experience; after: Experience }[];
  deleted: Experience[];
  unchanged: number;
};

const provenanceText = (p: unknown): string => {
  const list = Array.isArray(p) ? p : p ? [p] : [];
  const last = list.at(-1) as { op?: string; epoch?: number | null; batch?: number | null } | undefined;
  return last
    ? `${last.op ?? "?"}${last.epoch ? ` e${last.epoch}` : ""}${last.batch !== null && last.batch !== undefined ? `b${last.batch}` : ""}`
    : "";
};

export function libraryCommand(): Command {
  const cmd = new Command("library").description("an agent's immutable experience library versions");

  cmd
    .command("versions")
    .description("list library versions, newest first")
    .argument("<agent>", "agent name or id")
    .action(async (agent: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const res = await api.get<{ active: number | null; data: LibraryVersionRow[] }>(`/agents/${enc(agent)}/library/versions`);
      out(json, res, () =>
        [
          `active version: ${res.active ?? "none"}`,
          table(res.data, [
            ["version", (v) => `${v.version}${v.version === res.active ? " *" : ""}`],
            ["items", (v) => v.itemCount],
            ["parent", (v) => v.parentVersion],
            ["run", (v) => v.runId],
            ["note", (v) => v.note],
            ["created", (v) => v.createdAt],
          ]),
        ].join("\n"),
      );
    });

  cmd
    .command("show")
    .description("the experiences of a version (default: the active one)")
    .argument("<agent>", "agent name or id")
    .argument("[version]", "version number", int("version"))
    .option("--rendered", "print the text exactly as it is injected into the system message")
    .action(async (agent: string, version: number | undefined, o: { rendered?: boolean }, c: Command) => {
      const { api, json } = context(c);
      let v = version;
      if (v === undefined) {
        const a = await api.get<Agent>(`/agents/${enc(agent)}`);
        if (a.activeVersion === null)
          throw new CliError(`agent ${a.name} serves no library; name a version (tfgrpo library versions ${a.name})`);
        v = a.activeVersion;
      }
      const lib = await api.get<LibraryVersion>(`/agents/${enc(agent)}/library/versions/${v}`);
      out(json, lib, () =>
        o.rendered
          ? lib.rendered
          : [
              `version ${lib.version}: ${lib.items.length} experiences`,
              table(
                lib.items,
                [
                  ["id", (i) => i.id],
                  ["name", (i) => i.name],
                  ["text", (i) => i.text],
                  ["last change", (i) => provenanceText(i.provenance)],
                ],
                120,
              ),
            ].join("\n"),
      );
    });

  cmd
    .command("diff")
    .description("what changed between two versions (0 = the empty library)")
    .argument("<agent>", "agent name or id")
    .argument("<from>", "version", int("from"))
    .argument("<to>", "version", int("to"))
    .addHelpText("after", "\nExample:\n  tfgrpo library diff math 0 3")
    .action(async (agent: string, from: number, to: number, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const d = await api.get<Diff>(`/agents/${enc(agent)}/library/diff`, { from, to });
      out(json, d, () => {
        const lines = [
          `version ${d.from} → ${d.to}: ${d.added.length} added, ${d.updated.length} updated, ${d.deleted.length} deleted, ${d.unchanged} unchanged`,
        ];
        for (const i of d.added) lines.push(`+ [${i.id}] ${i.name}: ${i.text}`);
        for (const u of d.updated) lines.push(`~ [${u.id}] ${u.before.name}: ${u.before.text}\n    → ${u.after.name}: ${u.after.text}`);
        for (const i of d.deleted) lines.push(`- [${i.id}] ${i.name}: ${i.text}`);
        return lines.join("\n");
      });
    });

  return cmd;
}
