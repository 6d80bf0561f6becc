import { createReadStream, statSync } from "node:fs";
import { basename, extname } from "node:path";
import { Readable } from "node:stream";
import { Command, Option } from "commander";
import type { BuiltinDataset, Dataset, Sample } from "../adminClient";
import { uploadProgress } from "../progress";
import { CliError, context, enc, int } from "../connection";
import { fields, out, table, type Column } from "../output";

const CONTENT_TYPES = { jsonl: "application/x-ndjson", json: "application/json" } as const;

function formatOf(file: string, format: string | undefined): keyof typeof CONTENT_TYPES {
  if (format === "jsonl" || format === "json") return format;
  const ext = extname(file).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  if (ext === ".json") return "json";
  throw new CliError(`cannot tell the format of ${file} from its extension: pass --format jsonl or --format json`);
}

/** The file as a web stream, reporting bytes read as they go out. */
function streamWithProgress(file: string, onBytes: (n: number) => void): ReadableStream<Uint8Array> {
  let sent = 0;
  const source = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        onBytes(sent);
        controller.enqueue(chunk);
      },
    }),
  );
}

const datasetColumns: Column<Dataset>[] = [
  ["name", (d) => d.name],
  ["id", (d) => d.id],
  ["source", (d) => d.source],
  ["samples", (d) => d.sampleCount],
  ["created", (d) => d.createdAt],
  ["description", (d) => d.description],
];

export function datasetsCommand(): Command {
  const cmd = new Command("datasets").description("upload, list, show and load data sets");

  cmd
    .command("push")
    .description("upload a JSONL or JSON file of {id?, question, answer, …} rows (streamed)")
    .argument("<file>", "a .jsonl/.ndjson or .json file")
    .option("--name <name>", "data set name (default: the file name without extension)")
    .option("--description <text>", "description")
    .addOption(new Option("--format <format>", "override the format guessed from the extension").choices(["jsonl", "json"]))
    .addHelpText("after", "\nExample:\n  tfgrpo datasets push train.jsonl --name my-train")
    .action(async (file: string, o: { name?: string; description?: string; format?: string }, c: Command) => {
      const { api, json } = context(c);
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        throw new CliError(`cannot read ${file}`);
      }
      const format = formatOf(file, o.format);
      const name = o.name ?? basename(file, extname(file));
      const bar = uploadProgress(size, `uploading ${basename(file)}`);
      let dataset: Dataset;
      try {
        dataset = await api.request<Dataset>("POST", "/datasets", {
          query: { name, description: o.description },
          raw: streamWithProgress(file, (n) => bar.update(n)),
          contentType: CONTENT_TYPES[format],
          timeoutMs: 600_000,
        });
        bar.update(size);
      } finally {
        bar.stop();
      }
      out(json, dataset, () => `created data set ${dataset.name} (${dataset.id}) with ${dataset.sampleCount} samples`);
    });

  cmd
    .command("list")
    .description("list data sets")
    .action(async (_o: unknown, c: Command) => {
      const { api, json } = context(c);
      const { data } = await api.get<{ data: Dataset[] }>("/datasets");
      out(json, data, () => table(data, datasetColumns));
    });

  cmd
    .command("show")
    .description("show a data set and its first samples")
    .argument("<dataset>", "data set name or id")
    .option("--samples <n>", "how many samples to show", int("--samples"), 5)
    .option("--offset <n>", "first sample", int("--offset"), 0)
    .action(async (ref: string, o: { samples: number; offset: number }, c: Command) => {
      const { api, json } = context(c);
      const dataset = await api.get<Dataset>(`/datasets/${enc(ref)}`);
      const samples =
        o.samples > 0
          ? (await api.get<{ data: Sample[] }>(`/datasets/${enc(ref)}/samples`, { offset: o.offset, limit: o.samples })).data
          : [];
      out(json, { ...dataset, samples }, () =>
        [
          fields([
            ["name", dataset.name],
            ["id", dataset.id],
            ["source", dataset.source],
            ["samples", dataset.sampleCount],
            ["description", dataset.description || "(none)"],
            ["attribution", dataset.attribution ?? "(none)"],
            ["created", dataset.createdAt],
          ]),
          ...(samples.length
            ? [
                "",
                table(samples, [
                  ["#", (s) => s.idx],
                  ["id", (s) => s.id],
                  ["question", (s) => s.question],
                  ["answer", (s) => s.answer],
                ]),
              ]
            : []),
        ].join("\n"),
      );
    });

  cmd
    .command("load")
    .description("load a built-in data set (without a name: list the built-in sets)")
    .argument("[builtin]", "aime24, aime25, dapo-100, gsm8k-test, math500, sim-train, sim-test")
    .option("--name <name>", "store it under another name")
    .addHelpText("after", "\nExamples:\n  tfgrpo datasets load           # list them\n  tfgrpo datasets load sim-train")
    .action(async (builtin: string | undefined, o: { name?: string }, c: Command) => {
      const { api, json } = context(c);
      if (builtin === undefined) {
        const { data } = await api.get<{ data: BuiltinDataset[] }>("/datasets/builtin");
        out(json, data, () =>
          table(data, [
            ["name", (b) => b.name],
            ["rows", (b) => b.rows],
            ["loaded", (b) => (b.loaded ? b.loaded.name : "no")],
            ["description", (b) => b.description],
          ]),
        );
        return;
      }
      const dataset = await api.post<Dataset>(`/datasets/builtin/${enc(builtin)}`, undefined, { query: { name: o.name } });
      out(json, dataset, () => `loaded ${builtin} as ${dataset.name} (${dataset.id}) with ${dataset.sampleCount} samples`);
    });

  cmd
    .command("delete")
    .description("delete a data set with its samples")
    .argument("<dataset>", "data set name or id")
    .action(async (ref: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const res = await api.del<{ id: string; deleted: boolean }>(`/datasets/${enc(ref)}`);
      out(json, res, () => `deleted data set ${res.id}`);
    });

  return cmd;
}
