/**
 * Live progress for training runs and evaluations, shared by `npm start` and the CLI. On a terminal it
 * draws a `cli-progress` bar; otherwise (pipes, CI, tests) it prints a plain line whenever the
 * figures change, at most every few seconds, so logs stay readable.
 */
import cliProgress from "cli-progress";
import { runTokens, type Evaluation, type Run } from "./adminClient";

export type Progress<T> = { update(value: T): void; stop(): void };

type Line = { value: number; total: number; payload: Record<string, string> };

function progress<T>(
  format: string,
  toLine: (value: T) => Line,
  plain: (line: Line) => string,
  stream: NodeJS.WriteStream = process.stderr,
): Progress<T> {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format, stream, hideCursor: true, barsize: 24, etaBuffer: 50, clearOnComplete: false, fps: 10 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(value) {
        const line = toLine(value);
        if (!started) {
          bar.start(Math.max(1, line.total), line.value, line.payload);
          started = true;
        } else {
          bar.setTotal(Math.max(1, line.total));
          bar.update(line.value, line.payload);
        }
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let last = "";
  let lastAt = 0;
  let pending: Line | null = null;
  const flush = (line: Line) => {
    const text = plain(line);
    if (text === last) return;
    stream.write(`${text}\n`);
    last = text;
    lastAt = Date.now();
    pending = null;
  };
  return {
    update(value) {
      const line = toLine(value);
      if (Date.now() - lastAt >= 3_000) flush(line);
      else pending = line;
    },
    stop() {
      if (pending) flush(pending);
    },
  };
}

const fmt = (x: number | null | undefined, digits = 2) => (x === null || x === undefined ? "–" : x.toFixed(digits));

/** Mean@G of the finished batches, in order ("0.52 → 0.71 → 0.80"). */
export function meanTrail(run: Pick<Run, "batches">): string {
  const done = run.batches.filter((b) => b.meanAtG !== null).sort((a, b) => a.epoch - b.epoch || a.batch - b.batch);
  return done.length ? done.map((b) => fmt(b.meanAtG)).join(" → ") : "–";
}

export function runLine(run: Run): Line {
  const p = run.progress;
  return {
    value: p.groupsDone,
    total: p.groupsTotal,
    payload: {
      epoch: p.epoch === null ? "–" : String(p.epoch),
      epochs: String(p.epochs),
      batch: p.batch === null ? "–" : String(p.batch + 1),
      batches: String(p.batchesPerEpoch),
      mean: meanTrail(run),
      tokens: runTokens(run).toLocaleString("en-US"),
      status: run.status,
    },
  };
}

export function runProgress(stream?: NodeJS.WriteStream): Progress<Run> {
  return progress<Run>(
    "  epoch {epoch}/{epochs} · batch {batch}/{batches} [{bar}] {value}/{total} groups · Mean@G {mean} · {tokens} tokens · {duration_formatted}",
    runLine,
    (l) =>
      `  [${l.payload.status}] epoch ${l.payload.epoch}/${l.payload.epochs} · batch ${l.payload.batch}/${l.payload.batches} · ${l.value}/${l.total} groups · Mean@G ${l.payload.mean} · ${l.payload.tokens} tokens`,
    stream,
  );
}

export function evaluationProgress(stream?: NodeJS.WriteStream): Progress<Evaluation> {
  return progress<Evaluation>(
    "  [{bar}] {value}/{total} questions scored · {versions} · {duration_formatted}",
    (e) => ({
      value: e.progress.scored,
      total: e.progress.total,
      payload: { status: e.status, versions: e.versions.map((v) => `${v.label}: ${v.questionsDone}`).join(", ") },
    }),
    (l) => `  [${l.payload.status}] ${l.value}/${l.total} questions scored · ${l.payload.versions}`,
    stream,
  );
}

/** A byte counter for uploads. */
export function uploadProgress(totalBytes: number, label: string, stream: NodeJS.WriteStream = process.stderr): Progress<number> {
  return progress<number>(
    `  ${label} [{bar}] {percentage}% · {done} / {size}`,
    (n) => ({ value: n, total: totalBytes, payload: { done: kib(n), size: kib(totalBytes) } }),
    (l) => `  ${label} ${l.payload.done} / ${l.payload.size}`,
    stream,
  );
}

const kib = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);

export function formatEvaluationVersion(e: Evaluation, version: number): string {
  const v = e.versions.find((x) => x.version === version);
  if (!v || v.meanAtK === null) return "–";
  const ci = v.ci95 ? ` (95% CI ${fmt(v.ci95.low, 3)}–${fmt(v.ci95.high, 3)})` : "";
  return `${fmt(v.meanAtK, 3)}${ci}`;
}
