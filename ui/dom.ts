/**
 * The only way the dashboard builds DOM (docs/dashboard.md §3): elements from a tag, known properties
 * and children; text always goes in as text nodes, never as HTML, and a link can only point inside
 * the dashboard. Hostile text from the API (experiences, rollouts, rows, names) therefore stays text.
 */

export type Child = Node | string | number | null | undefined | false | readonly Child[];

type Props = {
  class?: string;
  id?: string;
  title?: string;
  role?: string;
  hidden?: boolean;
  /** Internal route as path segments; each is encoded, so no value can change the scheme. */
  route?: readonly (string | number)[];
  /** Query of the internal route (`#/a?v=2`), encoded. */
  query?: Record<string, string | number>;
  /** aria-*, data-* and a few form attributes, set with setAttribute after a name check. */
  attrs?: Record<string, string | number | boolean | undefined>;
  onClick?: (event: MouseEvent) => void;
  onSubmit?: (event: SubmitEvent) => void;
  onChange?: (event: Event) => void;
  onInput?: (event: Event) => void;
};

const ATTRIBUTE = /^(aria-[a-z]+|data-[a-z-]+|type|name|value|for|placeholder|autocomplete|required|disabled|min|max|step|accept|colspan|scope|tabindex|open|selected|multiple|lang|datetime|spellcheck|size|maxlength|inputmode)$/;

/** `#/a/b` for route segments, each percent-encoded. */
export function href(route: readonly (string | number)[], query?: Record<string, string | number>): string {
  const path = `#/${route.map((s) => encodeURIComponent(String(s))).join("/")}`;
  const q = new URLSearchParams(Object.entries(query ?? {}).map(([k, v]) => [k, String(v)])).toString();
  return q ? `${path}?${q}` : path;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, ...(child as Child[]));
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.id) el.id = props.id;
  if (props.title) el.title = props.title;
  if (props.role) el.setAttribute("role", props.role);
  if (props.hidden) el.hidden = true;
  if (props.route) el.setAttribute("href", href(props.route, props.query));
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (!ATTRIBUTE.test(name)) throw new Error(`attribute '${name}' is not allowed`);
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  if (props.onClick) el.addEventListener("click", props.onClick as EventListener);
  if (props.onSubmit) el.addEventListener("submit", props.onSubmit as EventListener);
  if (props.onChange) el.addEventListener("change", props.onChange);
  if (props.onInput) el.addEventListener("input", props.onInput);
  append(el, ...children);
  return el;
}

/** A link to a dashboard page. */
export const link = (route: readonly (string | number)[], ...children: Child[]): HTMLAnchorElement => h("a", { route }, ...children);

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A table from a header row and body rows, scrollable on narrow screens. */
export function table(headers: readonly string[], rows: readonly (readonly Child[])[], caption?: string, testId?: string): HTMLElement {
  return h(
    "div",
    { class: "table-wrap", attrs: { tabindex: 0, "aria-label": caption ?? "table" } },
    h(
      "table",
      { attrs: { "data-testid": testId } },
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { attrs: { scope: "col" } }, t)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}

/** A key/value list. */
export const facts = (pairs: readonly (readonly [string, Child])[]): HTMLElement =>
  h("dl", { class: "facts" }, pairs.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));

/** Long text (model output, experiences) shown exactly, wrapped, never interpreted. */
export const pre = (text: string | null | undefined, cls = "text"): HTMLElement => h("pre", { class: cls }, text ?? "—");

export const badge = (text: string, kind = text): HTMLElement => h("span", { class: `badge badge-${kind.replace(/[^a-z-]/g, "")}` }, text);

export const alertBox = (message: string): HTMLElement => h("p", { class: "alert", role: "alert" }, message);

/** A placeholder filled in when the promise settles (names looked up after a list is drawn). */
export function later(placeholder: string, value: Promise<Child>): HTMLElement {
  const span = h("span", {}, placeholder);
  value.then((v) => span.replaceChildren(...(v instanceof Node ? [v] : [String(v ?? "")])), () => {});
  return span;
}
