/**
 * Where the `npm start` demonstration got to, kept next to the local state: the evaluation before, the
 * run and the evaluation after, each recorded as soon as it is started. When `npm start` was
 * interrupted, starting it again carries on with these (recovered when the stack came up) instead of
 * starting and paying for them again; the file goes once the demonstration is done.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type DemoPhase = "before" | "run" | "after";
export type DemoState = Partial<Record<DemoPhase, string>>;

export function demoState(stateDir: string) {
  const file = join(stateDir, "demo-progress.json");
  let state: DemoState = {};
  if (existsSync(file)) {
    try {
      const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      for (const phase of ["before", "run", "after"] as const) if (typeof raw[phase] === "string") state[phase] = raw[phase];
    } catch {
      state = {};
    }
  }
  const save = () => writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  return {
    /** True when an earlier `npm start` left the demonstration unfinished. */
    interrupted: Object.keys(state).length > 0,
    get: (phase: DemoPhase): string | undefined => state[phase],
    set(phase: DemoPhase, id: string) {
      state[phase] = id;
      save();
    },
    /** Forgets a phase (it ended badly: the next start begins it anew). */
    drop(phase: DemoPhase) {
      delete state[phase];
      save();
    },
    done() {
      state = {};
      rmSync(file, { force: true });
    },
  };
}
