/** Hash routes (`#/runs/run_x`): every page has a URL, and the Worker serves one static page. */

export type Params = Record<string, string>;
export type Page = (params: Params, main: HTMLElement, signal: AbortSignal) => Promise<void> | void;
type Route = { parts: string[]; page: Page };

const routes: Route[] = [];

export function route(pattern: string, page: Page): void {
  routes.push({ parts: pattern.split("/").filter(Boolean), page });
}

/** The page for a hash such as `#/agents/demo/library?from=1`, with its params (path and query). */
export function match(hash: string): { page: Page; params: Params } | null {
  const [path = "", search = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const segments = path.split("/").filter(Boolean);
  for (const r of routes) {
    if (r.parts.length !== segments.length) continue;
    const params: Params = {};
    let ok = true;
    r.parts.forEach((part, i) => {
      const seg = segments[i] ?? "";
      if (part.startsWith(":")) {
        try {
          params[part.slice(1)] = decodeURIComponent(seg);
        } catch {
          ok = false;
        }
      } else if (part !== seg) ok = false;
    });
    if (!ok) continue;
    for (const [k, v] of new URLSearchParams(search)) params[`?${k}`] = v;
    return { page: r.page, params };
  }
  return null;
}

/** Integer route parameter, or null when absent or malformed. */
export function intParam(params: Params, name: string): number | null {
  const v = params[name];
  return v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : null;
}
