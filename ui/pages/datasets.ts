/** Data sets: the list, built-in sets to load, upload with progress, and a paged preview of rows. */
import { ApiFailure, api, uploadDataset } from "../api";
import { alertBox, append, clear, facts, h, link, pre, table } from "../dom";
import { num, when } from "../format";
import { intParam, type Params } from "../router";
import { actionButton } from "./common";

const PAGE = 50;

function uploadForm(onUploaded: () => void): HTMLElement {
  const name = h("input", { id: "upload-name", attrs: { name: "name", required: true, maxlength: 100, autocomplete: "off" } });
  const description = h("input", { id: "upload-description", attrs: { name: "description", maxlength: 2000, autocomplete: "off" } });
  const file = h("input", { id: "upload-file", attrs: { type: "file", name: "file", accept: ".jsonl,.ndjson,.json", required: true } });
  const progress = h("progress", { hidden: true, attrs: { max: 1, value: 0, "aria-label": "Upload progress" } });
  const status = h("div", { role: "status", attrs: { "data-testid": "upload-status" } });
  const submit = h("button", { attrs: { type: "submit" } }, "Upload");
  const form = h(
    "form",
    {
      class: "stacked-form",
      attrs: { "aria-label": "Upload a data set" },
      onSubmit: (e) => {
        e.preventDefault();
        const chosen = file.files?.[0];
        if (!chosen) return;
        submit.disabled = true;
        progress.hidden = false;
        progress.value = 0;
        clear(status);
        uploadDataset(chosen, name.value.trim(), description.value.trim(), (f) => {
          progress.value = f;
        })
          .then((d) => {
            append(status, "Uploaded ", link(["datasets", d.name], d.name), `: ${num(d.sampleCount)} samples.`);
            form.reset();
            onUploaded();
          })
          .catch((error: unknown) => append(status, alertBox(error instanceof ApiFailure || error instanceof Error ? error.message : String(error))))
          .finally(() => {
            submit.disabled = false;
            progress.hidden = true;
          });
      },
    },
    h("h2", {}, "Upload"),
    h("p", { class: "hint" }, "JSONL (one {question, answer, id?} object per line) or a JSON array; at most 50 MB. An invalid row rejects the whole file."),
    h("label", { attrs: { for: "upload-name" } }, "Name"),
    name,
    h("label", { attrs: { for: "upload-description" } }, "Description (optional)"),
    description,
    h("label", { attrs: { for: "upload-file" } }, "File"),
    file,
    submit,
    progress,
    status,
  );
  return form;
}

export async function datasetsPage(_params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  document.title = "Data sets · tfgrpo";
  const list = h("div");
  const drawList = async (): Promise<void> => {
    const { data } = await api.datasets(signal);
    list.replaceChildren(
      data.length === 0
        ? h("p", {}, "No data set yet.")
        : table(
            ["Name", "Source", "Samples", "Description", "Created"],
            data.map((d) => [link(["datasets", d.name], d.name), d.source, num(d.sampleCount), d.description || "—", when(d.createdAt)]),
            "Data sets",
            "datasets-table",
          ),
    );
  };
  const [builtins] = await Promise.all([api.builtins(signal), drawList()]);
  const rerender = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  append(
    main,
    h("h1", {}, "Data sets"),
    list,
    uploadForm(() => void drawList().catch(() => {})),
    h("h2", {}, "Built-in data sets"),
    table(
      ["Name", "Rows", "Description", ""],
      builtins.data.map((b) => [
        b.name,
        num(b.rows),
        b.description,
        b.loaded
          ? link(["datasets", b.loaded.name], `loaded as ${b.loaded.name}`)
          : actionButton("Load", async () => {
              await api.loadBuiltin(b.name);
              rerender();
            }),
      ]),
      "Built-in data sets",
    ),
  );
}

export async function datasetPage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const name = params.dataset ?? "";
  const offset = intParam(params, "?offset") ?? 0;
  document.title = `${name} · tfgrpo`;
  const [d, page] = await Promise.all([api.dataset(name, signal), api.samples(name, offset, PAGE, signal)]);
  const nav = (to: number, label: string, enabled: boolean) =>
    enabled ? h("a", { route: ["datasets", d.name], query: { offset: to } }, label) : h("span", { class: "muted" }, label);
  append(
    main,
    h("p", {}, link(["datasets"], "← data sets")),
    h("h1", {}, "Data set ", h("span", { class: "name" }, d.name)),
    facts([
      ["Source", d.source],
      ["Samples", num(d.sampleCount)],
      ["Description", d.description || "—"],
      ["Attribution", d.attribution ?? "—"],
      ["Created", when(d.createdAt)],
    ]),
    h("h2", {}, "Rows"),
    table(
      ["#", "Id", "Question", "Answer", "Extras"],
      page.data.map((s) => [String(s.idx), s.id, pre(s.question), pre(s.answer), s.extras ? pre(JSON.stringify(s.extras, null, 1)) : "—"]),
      `Rows ${page.total === 0 ? 0 : offset + 1}–${Math.min(page.total, offset + page.data.length)} of ${page.total}`,
      "samples-table",
    ),
    h("div", { class: "pager" }, nav(Math.max(0, offset - PAGE), "← previous", offset > 0), " ", nav(offset + PAGE, "next →", offset + PAGE < page.total)),
  );
}
