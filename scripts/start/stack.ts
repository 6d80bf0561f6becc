/**
 * `npm start`'s local stack, kept up. The dev server (scripts/lib/wranglerDev.ts) is checked every few
 * seconds; when it has stopped — its process ended, one of its workerd processes ended (wrangler does
 * not start it again, and nothing answers after that), or /healthz has not answered for a long while —
 * or when it is running out of file descriptors (the local engine keeps three open for every Workflow
 * instance that has run, for as long as the process lives: docs/wrangler-dev.md), it is started again
 * on the same state, saying so, and `afterStart` runs again (recovery of what was running: the local
 * engine does not resume it by itself, DESIGN §4).
 *
 * /healthz is allowed to stay silent for a while: the Worker answers requests on the same thread that
 * runs the Workflow steps, and a busy evaluation has delayed answers by tens of seconds.
 */
import { AdminApiError, type AdminClient } from "../../cli/adminClient";
import { groupDescriptors, openFileLimit, type Descriptors } from "../lib/descriptors";
import type { WranglerDev } from "../lib/wranglerDev";

export type StackOptions = {
  /** Starts the dev server; `again` is true for a restart on the same state. */
  start(again: boolean): Promise<WranglerDev>;
  /** Runs after every start, before the stack counts as ready. */
  afterStart(dev: WranglerDev, again: boolean): Promise<void>;
  log(line: string): void;
  checkEveryMs?: number;
  /** How long /healthz may stay unanswered before the stack counts as stopped. */
  silentForMs?: number;
  /** Share of a workerd process's open-file limit after which the stack is started afresh. */
  maxOpenShare?: number;
};

/** The workerd process closest to its open-file limit, when it is past `share` of it. */
export function descriptorPressure(processes: readonly Descriptors[], limit: (pid: number) => number | null, share: number): string | null {
  for (const d of processes) {
    const max = limit(d.pid);
    if (max !== null && d.total > share * max) return `a workerd process holds ${d.total} open files of its limit of ${max}`;
  }
  return null;
}

export type LocalStack = {
  dev(): WranglerDev;
  /** Resolves when the stack serves (at once, unless a restart is under way). */
  ready(): Promise<void>;
  restarts(): number;
  stop(): Promise<void>;
};

const workerdCount = (dev: WranglerDev) => groupDescriptors(dev.pgid, "workerd").length;

async function healthy(dev: WranglerDev): Promise<boolean> {
  try {
    const res = await fetch(`${dev.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export async function keepStackUp(o: StackOptions): Promise<LocalStack> {
  const checkEveryMs = o.checkEveryMs ?? 5_000;
  const silentForMs = o.silentForMs ?? 120_000;
  const maxOpenShare = o.maxOpenShare ?? 0.6;
  let dev = await o.start(false);
  let processes = workerdCount(dev);
  let lastAnswer = Date.now();
  let restarts = 0;
  let stopped = false;
  let ready: Promise<void> = o.afterStart(dev, false);
  await ready;

  /** Why the stack counts as stopped, or null. */
  const problem = async (): Promise<string | null> => {
    if (!dev.alive()) return "its process exited";
    const workerd = groupDescriptors(dev.pgid, "workerd");
    if (workerd.length < processes) return `${processes - workerd.length} of its ${processes} workerd processes exited`;
    const pressure = descriptorPressure(workerd, openFileLimit, maxOpenShare);
    if (pressure) return pressure;
    if (await healthy(dev)) {
      lastAnswer = Date.now();
      return null;
    }
    const silent = Date.now() - lastAnswer;
    return silent >= silentForMs ? `/healthz has not answered for ${Math.round(silent / 1000)} s` : null;
  };

  const restart = async (reason: string) => {
    restarts++;
    o.log(`wrangler dev stopped (${reason}); restarting it on the same state`);
    await dev.kill();
    dev = await o.start(true);
    processes = workerdCount(dev);
    lastAnswer = Date.now();
    await o.afterStart(dev, true);
    o.log(`wrangler dev is back on ${dev.url}`);
  };

  const loop = async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, checkEveryMs));
      if (stopped) return;
      const why = await problem();
      if (why === null || stopped) continue;
      ready = restart(why);
      try {
        await ready;
      } catch (error) {
        o.log(`could not restart wrangler dev: ${error instanceof Error ? error.message : String(error)}; trying again`);
      }
    }
  };
  void loop();

  return {
    dev: () => dev,
    ready: () => ready.catch(() => undefined),
    restarts: () => restarts,
    stop: async () => {
      stopped = true;
      // A restart under way finishes first, so that the server it starts is the one stopped.
      await ready.catch(() => undefined);
      await dev.stop();
    },
  };
}

/**
 * The admin client, riding out a restart: a request that could not reach the server (it never
 * arrived, so repeating it is safe) is sent again once the stack is ready, for up to `forMs`.
 */
export function throughRestarts(api: AdminClient, stack: LocalStack, forMs = 300_000): AdminClient {
  const request = async <T>(...args: Parameters<AdminClient["request"]>): Promise<T> => {
    const giveUpAt = Date.now() + forMs;
    for (;;) {
      try {
        return await api.request<T>(...args);
      } catch (error) {
        if (!(error instanceof AdminApiError && error.code === "unreachable") || Date.now() > giveUpAt) throw error;
        await new Promise((r) => setTimeout(r, 1_000));
        await stack.ready();
      }
    }
  };
  return {
    url: api.url,
    request,
    get: (path, query) => request("GET", path, { query }),
    post: (path, body, options) => request("POST", path, { ...options, body }),
    patch: (path, body) => request("PATCH", path, { body }),
    del: (path) => request("DELETE", path),
  };
}
