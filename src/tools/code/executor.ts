/**
 * Where model-written code runs. The built-in backend is QuickJS in WebAssembly inside the Worker
 * (quickjs.ts); docs/tools.md explains how a second backend (Worker Loader, Cloudflare Sandbox) plugs in
 * behind this interface.
 */

export type CodeLimits = {
  /** Heap cap of the sandboxed runtime. */
  memoryBytes: number;
  /** Wall-clock budget of one call; the run is interrupted when it is spent. */
  deadlineMs: number;
  /** Bytes of stdout (and of the result) kept; the rest is dropped and `truncated` set. */
  outputBytes: number;
};

export const DEFAULT_CODE_LIMITS: CodeLimits = { memoryBytes: 32 * 1024 * 1024, deadlineMs: 5_000, outputBytes: 16 * 1024 };

/** What one `execute_code` call returns to the model, as the tool message (JSON). */
export type CodeRunResult = {
  stdout: string;
  /** The completion value of the script (its last expression), as text; null when undefined. */
  result: string | null;
  /** Why the code failed (its exception, "interrupted", "out of memory"); null on success. */
  error: string | null;
  truncated: boolean;
};

export interface CodeExecutor {
  /** Runs one script in a fresh sandbox; never throws for anything the code does. */
  run(code: string, limits: CodeLimits): Promise<CodeRunResult>;
}
