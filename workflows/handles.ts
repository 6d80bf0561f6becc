/**
 * Workflow instance handles that release what they hold (docs/wrangler-dev.md).
 *
 * The local engine wraps each Workflow binding in an object whose `get()`, `status()`, `sendEvent()`,
 * `pause()`… each fetch an RPC stub of the instance from the engine and never dispose of it; workerd
 * warns when the garbage collector finds one (and, with an inspector attached, captured a stack trace
 * from inside the collector that could abort the process). Here, when the binding is that wrapper, a
 * handle talks to the RPC binding it wraps and disposes of every stub (and call result) itself; in
 * production the binding is used as documented.
 */

type Disposable = { [Symbol.dispose]?: () => void };

/** One instance of a Workflow: the methods of `WorkflowInstance` we use. */
export type InstanceHandle = Pick<WorkflowInstance, "pause" | "resume" | "restart" | "terminate" | "sendEvent"> & {
  status(): Promise<InstanceStatus>;
};

type RpcHandle = InstanceHandle & Disposable;
type RpcBinding = { get(id: string): Promise<RpcHandle> };

/** The RPC binding behind the local engine's wrapper, or null for a production binding. */
function wrappedBinding(workflow: Workflow<unknown>): RpcBinding | null {
  const inner: unknown = Reflect.get(workflow, "binding");
  return typeof inner === "object" && inner !== null && typeof Reflect.get(inner, "get") === "function" ? (inner as RpcBinding) : null;
}

const dispose = (value: unknown) => {
  const fn: unknown = typeof value === "object" && value !== null ? Reflect.get(value, Symbol.dispose) : undefined;
  if (typeof fn === "function") (fn as () => void).call(value);
};

/** A handle whose every call gets a fresh stub and disposes of it (and of the call's result). */
function localHandle(binding: RpcBinding, id: string): InstanceHandle {
  const call = async <T>(fn: (h: RpcHandle) => Promise<T>): Promise<T> => {
    const h = await binding.get(id);
    try {
      return await fn(h);
    } finally {
      dispose(h);
    }
  };
  return {
    pause: () => call((h) => h.pause()),
    resume: () => call((h) => h.resume()),
    restart: () => call((h) => h.restart()),
    terminate: () => call((h) => h.terminate()),
    sendEvent: (event) => call((h) => h.sendEvent(event)),
    status: () =>
      call(async (h) => {
        const res = await h.status();
        try {
          return structuredClone(res);
        } finally {
          dispose(res);
        }
      }),
  };
}

/** The instance `id` of `workflow`; rejects when it does not exist (as `Workflow.get` does). */
export async function instanceOf(workflow: Workflow<unknown>, id: string): Promise<InstanceHandle> {
  const binding = wrappedBinding(workflow);
  if (!binding) return workflow.get(id);
  const handle = localHandle(binding, id);
  await handle.status();
  return handle;
}

/** Sends an event to the instance `id` of `workflow`. */
export async function sendEventTo(workflow: Workflow<unknown>, id: string, event: { type: string; payload: unknown }): Promise<void> {
  const binding = wrappedBinding(workflow);
  await (binding ? localHandle(binding, id) : await workflow.get(id)).sendEvent(event);
}
