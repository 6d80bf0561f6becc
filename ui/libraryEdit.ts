/**
 * The dashboard's edit-by-hand form, pure: the version's items are shown as the lines they render to
 * (`[E3] Name: text`); what the viewer changes becomes the operations of one request (POST
 * …/library/versions, docs/ownership.md). A line keeps its item by its [id]; a line without an id is a
 * new item; an item whose line is gone is deleted.
 */
export type EditableItem = { id: string; name: string; text: string };
export type EditOperation = { op: "add"; text: string } | { op: "edit"; id: string; name?: string; text?: string } | { op: "delete"; id: string };

export const itemLine = (item: EditableItem): string => `[${item.id}] ${item.name}: ${item.text}`;

const LINE = /^\[(E\d+)\]\s*(.*)$/;

export function operationsFromText(items: readonly EditableItem[], text: string): { ok: true; operations: EditOperation[] } | { ok: false; error: string } {
  const byId = new Map(items.map((i) => [i.id, i]));
  const seen = new Set<string>();
  const operations: EditOperation[] = [];
  for (const [n, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const match = LINE.exec(line);
    if (!match) {
      operations.push({ op: "add", text: line });
      continue;
    }
    const id = match[1] as string;
    const item = byId.get(id);
    if (!item) return { ok: false, error: `line ${n + 1}: ${id} is not an item of this version (leave out the [${id}] to add a new item)` };
    if (seen.has(id)) return { ok: false, error: `line ${n + 1}: ${id} appears twice` };
    seen.add(id);
    const rest = (match[2] ?? "").trim();
    const at = rest.indexOf(": ");
    const name = at > 0 ? rest.slice(0, at).trim() : item.name;
    const body = at > 0 ? rest.slice(at + 2).trim() : rest;
    const edit: EditOperation = { op: "edit", id };
    if (name !== item.name) edit.name = name;
    if (body !== item.text) edit.text = body;
    if (edit.name !== undefined || edit.text !== undefined) operations.push(edit);
  }
  for (const item of items) if (!seen.has(item.id)) operations.push({ op: "delete", id: item.id });
  return { ok: true, operations };
}
