/**
 * The library: the version timeline, one version's items with their provenance, promotion and
 * rollback with a confirmation, a side-by-side diff of any two versions, and what people do with
 * their library (docs/ownership.md): edit a version by hand, download it as a file, import one.
 */
import { api, type LibraryDiff, type LibraryVersion, type LibraryVersionCreated, type LibraryVersionRow } from "../api";
import { alertBox, append, badge, h, link, pre, table } from "../dom";
import { itemLine, operationsFromText } from "../libraryEdit";
import type { Child } from "../dom";
import { num, versionLabel, when } from "../format";
import { intParam, type Params } from "../router";
import { actionButton, agentNav, confirmAction } from "./common";

type Experience = LibraryDiff["added"][number];

function provenance(e: Experience): HTMLElement {
  return h(
    "ul",
    { class: "provenance" },
    e.provenance.map((p) =>
      h(
        "li",
        {},
        h("code", {}, p.op),
        p.source
          ? [` ${p.source} by ${p.author ?? "?"}`, p.reason ? `: ${p.reason}` : "", p.importedId ? ` (was ${p.importedId})` : ""]
          : p.runId
            ? [
                " by ",
                link(["runs", p.runId], p.runId),
                p.epoch !== null && p.batch !== null ? [", ", link(["runs", p.runId, "batches", p.epoch, p.batch], `epoch ${p.epoch} batch ${p.batch}`)] : "",
              ]
            : " by hand",
      ),
    ),
  );
}

const itemCell = (e: Experience | null): Child =>
  e ? h("div", { class: "item" }, h("div", {}, h("code", {}, e.id), " ", h("strong", {}, e.name)), h("p", {}, e.text)) : h("span", { class: "muted" }, "—");

async function promote(agent: string, version: number, active: number | null, rerender: () => void): Promise<void> {
  const rollback = active !== null && version < active;
  const what = version === 0 ? "serve no library" : `serve version ${version}`;
  const ok = await confirmAction(
    version === 0 ? "Serve no library?" : rollback ? `Roll back to version ${version}?` : `Promote version ${version}?`,
    `Agent ${agent} will ${what} instead of ${versionLabel(active)} on every proxied request (serving picks it up within seconds). The decision is recorded; you can switch back at any time.`,
    version === 0 ? "Serve no library" : rollback ? "Roll back" : "Promote",
  );
  if (!ok) return;
  await api.promote(agent, version);
  rerender();
}

function timeline(agent: string, rows: LibraryVersionRow[], active: number | null, shown: number | null, rerender: () => void): HTMLElement {
  return table(
    ["Version", "Created", "Items", "Made by", "Model", "Note", "Serving", ""],
    rows.map((v) => [
      h("a", { route: ["agents", agent, "library"], query: { v: v.version }, attrs: { "aria-current": v.version === shown ? "true" : undefined } }, versionLabel(v.version)),
      when(v.createdAt),
      num(v.itemCount),
      v.runId ? link(["runs", v.runId], v.runId) : v.source !== "learned" ? `${v.source} by ${v.author ?? "?"}` : v.parentVersion !== null ? `from ${versionLabel(v.parentVersion)}` : "—",
      v.model ?? "—",
      v.note,
      v.version === active ? badge("active", "good") : "",
      v.version === active ? "" : actionButton(active !== null && v.version < active ? "Roll back" : "Promote", () => promote(agent, v.version, active, rerender), { testId: `promote-${v.version}` }),
    ]),
    "Version timeline, newest first",
    "versions-table",
  );
}

export async function libraryPage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const agent = params.agent ?? "";
  document.title = `${agent} library · tfgrpo`;
  const { active, data: rows } = await api.versions(agent, signal);
  const latest = rows[0]?.version ?? null;
  const shown = intParam(params, "?v") ?? active ?? latest;
  const rerender = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  append(main, h("h1", {}, "Library of ", h("span", { class: "name" }, agent)), agentNav(agent, "Library"));
  if (notice) {
    append(main, notice);
    notice = null;
  }
  if (rows.length === 0) {
    append(main, h("p", {}, "No library version yet: train a run, or import a library file."), importForm(agent));
    return;
  }
  append(
    main,
    h("p", {}, "Serving: ", h("strong", { attrs: { "data-testid": "active-version" } }, versionLabel(active)), " ", active === null || active === 0 ? "" : actionButton("Serve no library", () => promote(agent, 0, active, rerender))),
    h("h2", {}, "Versions"),
    timeline(agent, rows, active, shown, rerender),
    diffForm(agent, rows, active, shown),
  );
  if (shown !== null && shown > 0) {
    const v = await api.version(agent, shown, signal);
    append(
      main,
      h("h2", {}, `Items of ${versionLabel(v.version)}`),
      table(
        ["Item", "Experience", "Provenance"],
        v.items.map((e) => [h("code", {}, e.id), h("div", {}, h("strong", {}, e.name), h("p", {}, e.text)), provenance(e)]),
        `Items of ${versionLabel(v.version)}`,
        "items-table",
      ),
      h("details", {}, h("summary", {}, "As injected into the system message"), pre(v.rendered)),
      h(
        "p",
        {},
        "Download: ",
        actionButton("our format", async () => location.assign(api.exportUrl(agent, v.version, "native")), { testId: "export-native" }),
        " ",
        actionButton("experiences.json (reference format)", async () => location.assign(api.exportUrl(agent, v.version, "reference")), {
          testId: "export-reference",
        }),
      ),
      editForm(agent, v),
    );
  }
  append(main, importForm(agent));
}

/** Shown once at the top of the next rendering of the page: the version just made, and its warnings. */
let notice: HTMLElement | null = null;

function made(agent: string, v: LibraryVersionCreated): void {
  notice = h(
    "div",
    { role: "status", attrs: { "data-testid": "made-notice" } },
    h("p", {}, `Made ${versionLabel(v.version)} (${v.meta?.source ?? ""}, ${v.items.length} items). It serves once promoted.`),
    v.warnings.map((w) => alertBox(`Warning: ${w}`)),
  );
  location.hash = `#/agents/${encodeURIComponent(agent)}/library?v=${v.version}`;
}

const field = (id: string, label: string, input: HTMLElement): HTMLElement => h("p", {}, h("label", { attrs: { for: id } }, label), " ", input);

function editForm(agent: string, v: LibraryVersion): HTMLElement {
  const lines = h("textarea", { id: "edit-lines", attrs: { name: "lines", spellcheck: false, "aria-describedby": "edit-help" } });
  lines.value = v.items.map(itemLine).join("\n");
  lines.rows = Math.min(20, v.items.length + 3);
  const author = h("input", { id: "edit-author", attrs: { name: "author", required: true, autocomplete: "name" } });
  const reason = h("input", { id: "edit-reason", attrs: { name: "reason", required: true } });
  const status = h("div", { role: "status" });
  return h(
    "details",
    { attrs: { "data-testid": "edit-form" } },
    h("summary", {}, `Edit ${versionLabel(v.version)} by hand`),
    h(
      "form",
      {
        attrs: { "aria-label": "Edit by hand" },
        onSubmit: (e) => {
          e.preventDefault();
          const ops = operationsFromText(v.items, lines.value);
          if (!ops.ok) {
            status.replaceChildren(alertBox(ops.error));
            return;
          }
          if (ops.operations.length === 0) {
            status.replaceChildren(alertBox("Nothing changed."));
            return;
          }
          api
            .editVersion(agent, { base: v.version, operations: ops.operations, author: author.value, reason: reason.value })
            .then((created) => made(agent, created))
            .catch((error: unknown) => status.replaceChildren(alertBox(error instanceof Error ? error.message : String(error))));
        },
      },
      h(
        "p",
        { id: "edit-help" },
        "One item per line, as it is injected: keep an item's [id] to edit it, remove its line to delete it, write a line without an id to add one. The edit makes a new version; nothing serves until it is promoted.",
      ),
      lines,
      field("edit-author", "Your name", author),
      field("edit-reason", "Why", reason),
      h("button", { class: "primary", attrs: { type: "submit" } }, "Make the new version"),
      status,
    ),
  );
}

function importForm(agent: string): HTMLElement {
  const file = h("input", { id: "import-file", attrs: { type: "file", name: "file", accept: ".json,application/json", required: true } });
  const author = h("input", { id: "import-author", attrs: { name: "author", required: true, autocomplete: "name" } });
  const reason = h("input", { id: "import-reason", attrs: { name: "reason", required: true } });
  const status = h("div", { role: "status" });
  return h(
    "form",
    {
      class: "stacked-form",
      attrs: { "aria-label": "Import a library file", "data-testid": "import-form" },
      onSubmit: (e) => {
        e.preventDefault();
        const chosen = file.files?.[0];
        if (!chosen) return;
        chosen
          .text()
          .then((text) => api.importVersion(agent, text, { author: author.value, reason: reason.value }))
          .then((created) => made(agent, created))
          .catch((error: unknown) => status.replaceChildren(alertBox(error instanceof Error ? error.message : String(error))));
      },
    },
    h("h2", {}, "Import a version"),
    h("p", {}, "Our export, or the reference implementation's experiences.json (an object mapping id → text)."),
    field("import-file", "File", file),
    field("import-author", "Your name", author),
    field("import-reason", "Why", reason),
    h("button", { attrs: { type: "submit" } }, "Import"),
    status,
  );
}

function diffForm(agent: string, rows: LibraryVersionRow[], active: number | null, shown: number | null): HTMLElement {
  const options = (selected: number) => [0, ...rows.map((r) => r.version)].map((v) => h("option", { attrs: { value: v, selected: v === selected } }, versionLabel(v)));
  const to = shown ?? rows[0]?.version ?? 0;
  const from = rows.find((r) => r.version === to)?.parentVersion ?? (active !== null && active !== to ? active : 0);
  const fromSel = h("select", { id: "diff-from", attrs: { name: "from" } }, options(from));
  const toSel = h("select", { id: "diff-to", attrs: { name: "to" } }, options(to));
  return h(
    "form",
    {
      class: "inline-form",
      attrs: { "aria-label": "Compare two versions" },
      onSubmit: (e) => {
        e.preventDefault();
        location.hash = `#/agents/${encodeURIComponent(agent)}/library/diff/${fromSel.value}/${toSel.value}`;
      },
    },
    h("h2", {}, "Compare versions"),
    h("label", { attrs: { for: "diff-from" } }, "From"),
    fromSel,
    h("label", { attrs: { for: "diff-to" } }, "To"),
    toSel,
    h("button", { attrs: { type: "submit" } }, "Compare"),
  );
}

export async function diffPage(params: Params, main: HTMLElement, signal: AbortSignal): Promise<void> {
  const agent = params.agent ?? "";
  const from = intParam(params, "from");
  const to = intParam(params, "to");
  if (from === null || to === null) throw new Error("versions must be numbers");
  document.title = `${agent} ${versionLabel(from)} → ${versionLabel(to)} · tfgrpo`;
  const d = await api.diff(agent, from, to, signal);
  const rows: { kind: string; before: Experience | null; after: Experience | null }[] = [
    ...d.updated.map((u) => ({ kind: "updated", before: u.before, after: u.after })),
    ...d.added.map((e) => ({ kind: "added", before: null, after: e })),
    ...d.deleted.map((e) => ({ kind: "deleted", before: e, after: null })),
  ];
  append(
    main,
    h("h1", {}, `${agent}: ${versionLabel(from)} → ${versionLabel(to)}`),
    agentNav(agent, "Library"),
    h("p", { attrs: { "data-testid": "diff-summary" } }, `${d.added.length} added, ${d.updated.length} updated, ${d.deleted.length} deleted, ${d.unchanged} unchanged.`),
    rows.length === 0
      ? h("p", {}, "The two versions hold the same items.")
      : h(
          "div",
          { class: "table-wrap", attrs: { tabindex: 0, "aria-label": "Side-by-side diff" } },
          h(
            "table",
            { class: "diff", attrs: { "data-testid": "diff-table" } },
            h("caption", {}, "Side-by-side diff"),
            h("thead", {}, h("tr", {}, h("th", { attrs: { scope: "col" } }, "Change"), h("th", { attrs: { scope: "col" } }, versionLabel(from)), h("th", { attrs: { scope: "col" } }, versionLabel(to)))),
            h(
              "tbody",
              {},
              rows.map((r) => h("tr", { class: `diff-${r.kind}`, attrs: { "data-change": r.kind } }, h("td", {}, badge(r.kind)), h("td", {}, itemCell(r.before)), h("td", {}, itemCell(r.after), r.after ? provenance(r.after) : null))),
            ),
          ),
        ),
    h("p", {}, link(["agents", agent, "library"], "← versions")),
  );
}
