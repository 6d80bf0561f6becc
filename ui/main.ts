/**
 * The dashboard's shell (docs/dashboard.md): sign-in, navigation, and one page per hash route. Each
 * page gets an AbortSignal that fires when the viewer leaves it, which stops its polling and charts.
 */
import { ApiFailure, api, whenSignedOut } from "./api";
import { alertBox, append, clear, h, link } from "./dom";
import { match, route } from "./router";
import { agentPage, agentsPage } from "./pages/agents";
import { datasetPage, datasetsPage } from "./pages/datasets";
import { evaluationPage, evaluationsPage } from "./pages/evaluations";
import { diffPage, libraryPage } from "./pages/library";
import { promotionsPage } from "./pages/promotions";
import { batchPage, groupPage, runPage } from "./pages/run";
import { usagePage } from "./pages/usage";

route("/", agentsPage);
route("/agents", agentsPage);
route("/agents/:agent", agentPage);
route("/agents/:agent/library", libraryPage);
route("/agents/:agent/library/diff/:from/:to", diffPage);
route("/agents/:agent/evaluations", evaluationsPage);
route("/agents/:agent/promotions", promotionsPage);
route("/agents/:agent/usage", usagePage);
route("/runs/:run", runPage);
route("/runs/:run/batches/:epoch/:batch", batchPage);
route("/runs/:run/groups/:epoch/:sample", groupPage);
route("/evaluations/:evaluation", evaluationPage);
route("/datasets", datasetsPage);
route("/datasets/:dataset", datasetPage);

const root = document.getElementById("app") as HTMLElement;
let current: AbortController | null = null;

function shell(): HTMLElement {
  const main = h("main", { id: "main", attrs: { tabindex: -1 } });
  const signOut = h("button", { class: "link-button", attrs: { type: "button" }, onClick: () => void leave() }, "Sign out");
  clear(root);
  append(
    root,
    h("a", { class: "skip", attrs: { "data-testid": "skip" }, route: [] }, "Skip to content"),
    h("header", { class: "top" }, h("nav", { attrs: { "aria-label": "Main" } }, link(["agents"], h("strong", {}, "tfgrpo")), link(["agents"], "Agents"), link(["datasets"], "Datasets"), signOut)),
    main,
  );
  // The skip link must move focus, not navigate: the hash is the router's.
  root.querySelector(".skip")?.addEventListener("click", (e) => {
    e.preventDefault();
    main.focus();
  });
  return main;
}

async function render(): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const main = shell();
  const found = match(location.hash || "#/");
  if (!found) {
    append(main, h("h1", {}, "Page not found"), h("p", {}, "No dashboard page has this address. ", link(["agents"], "Go to the agents.")));
    return;
  }
  try {
    await found.page(found.params, main, controller.signal);
  } catch (error) {
    if (controller.signal.aborted) return;
    if (error instanceof ApiFailure && error.status === 401) return;
    append(main, alertBox(error instanceof Error ? error.message : String(error)));
  }
}

async function leave(): Promise<void> {
  try {
    await api.signOut();
  } finally {
    showSignIn("You are signed out.");
  }
}

/** The sign-in form; the page the viewer was on (the hash) is kept and shown after signing in. */
function showSignIn(notice?: string): void {
  current?.abort();
  current = null;
  clear(root);
  const input = h("input", { id: "token", attrs: { type: "password", name: "token", autocomplete: "current-password", required: true, spellcheck: false } });
  const message = h("p", { class: "alert", role: "alert", hidden: true, attrs: { "data-testid": "sign-in-error" } });
  const form = h(
    "form",
    {
      class: "sign-in",
      onSubmit: (e) => {
        e.preventDefault();
        message.hidden = true;
        const token = input.value;
        input.value = "";
        api
          .signIn(token)
          .then(() => render())
          .catch((error: unknown) => {
            message.textContent = error instanceof ApiFailure && error.status === 401 ? "Wrong admin token." : error instanceof Error ? error.message : String(error);
            message.hidden = false;
            input.focus();
          });
      },
    },
    h("h1", {}, "tfgrpo dashboard"),
    notice ? h("p", { role: "status" }, notice) : null,
    h("label", { attrs: { for: "token" } }, "Admin token"),
    input,
    h("button", { attrs: { type: "submit" } }, "Sign in"),
    message,
    h("p", { class: "hint" }, "The token is exchanged for a session cookie that lasts 8 hours; it is not stored in this browser."),
  );
  append(root, h("main", {}, form));
  input.focus();
}

whenSignedOut(() => showSignIn("Your session has ended. Sign in again to continue on this page."));
window.addEventListener("hashchange", () => void render());

api
  .session()
  .then((s) => (s.signedIn ? render() : showSignIn()))
  .catch((error: unknown) => showSignIn(`Could not reach the server: ${error instanceof Error ? error.message : String(error)}`));
