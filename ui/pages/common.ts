/** Pieces several pages share: the agent's sub-navigation, polling, confirmation, action buttons. */
import { ApiFailure } from "../api";
import { alertBox, append, h, link } from "../dom";

/** The agent's pages, with the current one marked. */
export function agentNav(agent: string, currentPage: string): HTMLElement {
  const pages: [string, string[]][] = [
    ["Overview", ["agents", agent]],
    ["Library", ["agents", agent, "library"]],
    ["Evaluations", ["agents", agent, "evaluations"]],
    ["Promotions", ["agents", agent, "promotions"]],
    ["Usage", ["agents", agent, "usage"]],
  ];
  return h(
    "nav",
    { class: "subnav", attrs: { "aria-label": `Agent ${agent}` } },
    pages.map(([label, r]) => {
      const a = link(r, label);
      if (label === currentPage) a.setAttribute("aria-current", "page");
      return a;
    }),
  );
}

/** Calls `tick` now and then every `ms` until it returns false or the page is left. */
export async function poll(signal: AbortSignal, ms: number, tick: () => Promise<boolean>): Promise<void> {
  let again = await tick();
  while (again && !signal.aborted) {
    await new Promise((r) => setTimeout(r, ms));
    if (signal.aborted) return;
    try {
      again = await tick();
    } catch (error) {
      if (signal.aborted || (error instanceof ApiFailure && error.status === 401)) return;
      // A transient failure while polling: keep the last view and try again.
      again = true;
    }
  }
}

/**
 * Asks for confirmation in a modal dialog (keyboard: focus starts on Cancel, Escape cancels).
 * Resolves true only when the viewer confirms.
 */
export function confirmAction(title: string, body: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", attrs: { "aria-labelledby": "confirm-title", "data-testid": "confirm" } });
    const done = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    const cancel = h("button", { attrs: { type: "button" }, onClick: () => done(false) }, "Cancel");
    append(
      dialog,
      h("h2", { id: "confirm-title" }, title),
      h("p", {}, body),
      h("div", { class: "actions" }, cancel, h("button", { class: "primary", attrs: { type: "button" }, onClick: () => done(true) }, confirmLabel)),
    );
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** A button that runs an action once at a time and shows its failure next to it. */
export function actionButton(label: string, action: () => Promise<void>, opts: { testId?: string; primary?: boolean } = {}): HTMLElement {
  const status = h("span", { class: "action-status", role: "status" });
  const button = h(
    "button",
    {
      class: opts.primary ? "primary" : undefined,
      attrs: { type: "button", "data-testid": opts.testId },
      onClick: () => {
        button.disabled = true;
        status.textContent = "";
        action()
          .catch((error: unknown) => {
            status.replaceChildren(alertBox(error instanceof Error ? error.message : String(error)));
          })
          .finally(() => {
            button.disabled = false;
          });
      },
    },
    label,
  );
  return h("span", { class: "action" }, button, status);
}

export const statusBadgeKind = (status: string): string =>
  status === "completed" || status === "promoted" || status === "kept" || status === "applied" ? "good" : status === "failed" || status === "refused" || status === "dropped" || status === "cancelled" || status === "rolled_back" ? "bad" : status === "running" || status === "queued" ? "live" : "neutral";
