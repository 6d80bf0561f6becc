import { readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { Command } from "commander";
import type { Agent, Experience, LibraryVersion, LibraryVersionCreated, LibraryVersionRow } from "../adminClient";
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
  const last = list.at(-1) as { op?: string; epoch?: number | null; batch?: number | null; source?: string; author?: string } | undefined;
  if (!last) return "";
  if (last.source) return `${last.op ?? "?"} ${last.source} by ${last.author ?? "?"}`;
  return `${last.op ?? "?"}${last.epoch ? ` e${last.epoch}` : ""}${last.batch !== null && last.batch !== undefined ? `b${last.batch}` : ""}`;
};

/** Repeatable options collect into a list. */
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** "E3=text" → [id, text]. */
function idAndText(option: string, value: string): [string, string] {
  const at = value.indexOf("=");
  if (at < 1) throw new CliError(`${option} takes <id>=<text>, e.g. ${option} "E3=When …, …"`);
  return [value.slice(0, at).trim(), value.slice(at + 1)];
}

const defaultAuthor = () => {
  try {
    return userInfo().username || "cli";
  } catch {
    return "cli";
  }
};

/** What the admin should know about a version made by hand or imported, then how to serve it. */
function createdText(agent: string, v: LibraryVersionCreated): string {
  const lines = [`${agent}: version ${v.version} (${v.meta?.source}, ${v.items.length} items) — ${v.meta?.note ?? ""}`];
  for (const w of v.warnings) lines.push(`warning: ${w}`);
  lines.push(`serve it: tfgrpo promote ${agent} ${v.version}`);
  return lines.join("\n");
}

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
            ["made", (v) => (v.source === "learned" ? `run ${v.runId ?? "?"}` : `${v.source} by ${v.author ?? "?"}`)],
            ["model", (v) => v.model],
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

  cmd
    .command("edit")
    .description("make a new version by hand from a base version: add, edit and delete items (one request, all or nothing)")
    .argument("<agent>", "agent name or id")
    .requiredOption("--base <version>", "the version edited (0: the empty library)", int("--base"))
    .option("--add <text>", 'add an item: "Name: text" (or a text, named by its first words); repeatable', collect)
    .option("--edit <id=text>", "replace an item's text, keeping its id; repeatable", collect)
    .option("--rename <id=name>", "rename an item; repeatable", collect)
    .option("--delete <id>", "delete an item; repeatable", collect)
    .option("--ops <file>", 'operations as JSON: [{"op": "add", "text"} | {"op": "edit", "id", "text"} | {"op": "delete", "id"}]')
    .requiredOption("--reason <text>", "why (recorded on the version and its items)")
    .option("--author <name>", "who (default: your user name)")
    .addHelpText(
      "after",
      '\nExample:\n  tfgrpo library edit math --base 3 --edit "E2=When a range includes both ends, add one." --delete E5 --reason "E5 misled on fences"',
    )
    .action(
      async (
        agent: string,
        o: {
          base: number;
          add?: string[];
          edit?: string[];
          rename?: string[];
          delete?: string[];
          ops?: string;
          reason: string;
          author?: string;
        },
        c: Command,
      ) => {
        const { api, json } = context(c);
        const operations: Record<string, unknown>[] = o.ops ? (JSON.parse(readFileSync(o.ops, "utf8")) as Record<string, unknown>[]) : [];
        const edits = new Map<string, Record<string, unknown>>();
        for (const value of o.edit ?? []) {
          const [id, text] = idAndText("--edit", value);
          edits.set(id, { ...(edits.get(id) ?? { op: "edit", id }), text });
        }
        for (const value of o.rename ?? []) {
          const [id, name] = idAndText("--rename", value);
          edits.set(id, { ...(edits.get(id) ?? { op: "edit", id }), name });
        }
        operations.push(...edits.values());
        for (const id of o.delete ?? []) operations.push({ op: "delete", id });
        for (const text of o.add ?? []) operations.push({ op: "add", text });
        if (operations.length === 0) throw new CliError("nothing to do: give --add, --edit, --rename, --delete or --ops");
        const v = await api.post<LibraryVersionCreated>(`/agents/${enc(agent)}/library/versions`, {
          base: o.base,
          operations,
          author: o.author ?? defaultAuthor(),
          reason: o.reason,
        });
        out(json, v, () => createdText(agent, v));
      },
    );

  cmd
    .command("export")
    .description("write a version as a file: our JSON (with provenance and model) or the reference's experiences.json (id → text)")
    .argument("<agent>", "agent name or id")
    .argument("<version>", "version number", int("version", 1))
    .option("--format <format>", "native or reference", "native")
    .option("-o, --out <file>", "write to this file (default: standard output)")
    .action(async (agent: string, version: number, o: { format: string; out?: string }, c: Command) => {
      const { api } = context(c);
      if (o.format !== "native" && o.format !== "reference") throw new CliError("--format is native or reference");
      const file = await api.get<unknown>(`/agents/${enc(agent)}/library/${version}/export`, { format: o.format });
      const text = `${JSON.stringify(file, null, 2)}\n`;
      if (o.out) {
        writeFileSync(o.out, text);
        process.stderr.write(`wrote version ${version} of ${agent} (${o.format} format) to ${o.out}\n`);
      } else process.stdout.write(text);
    });

  cmd
    .command("import")
    .description("make a new version from a file: our JSON or the reference's experiences.json (id → text)")
    .argument("<agent>", "agent name or id")
    .argument("<file>", "the library file")
    .option("--format <format>", "auto, native or reference", "auto")
    .option("--model <model>", "the model the library was learned with, when the file does not say")
    .option("--renumber", "give every item a new id, even ids of ours (E<n>) the file carries")
    .requiredOption("--reason <text>", "why (recorded on the version and its items)")
    .option("--author <name>", "who (default: your user name)")
    .addHelpText(
      "after",
      '\nExample:\n  tfgrpo library import math-v2 experiences.json --model deepseek-chat --reason "from the paper\'s run"',
    )
    .action(
      async (
        agent: string,
        file: string,
        o: { format: string; model?: string; renumber?: boolean; reason: string; author?: string },
        c: Command,
      ) => {
        const { api, json } = context(c);
        const v = await api.request<LibraryVersionCreated>("POST", `/agents/${enc(agent)}/library/import`, {
          raw: readFileSync(file, "utf8"),
          contentType: "application/json",
          query: {
            format: o.format,
            author: o.author ?? defaultAuthor(),
            reason: o.reason,
            model: o.model,
            ids: o.renumber ? "renumber" : undefined,
          },
        });
        out(json, v, () => createdText(agent, v));
      },
    );

  return cmd;
}
