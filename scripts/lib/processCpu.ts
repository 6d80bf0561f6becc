/**
 * CPU time used so far by every process of a process group (Linux /proc), in milliseconds. The
 * benchmarks start `wrangler dev` in a group of its own, so this is what the Worker, its runtime and
 * its dev proxy cost, native work included — not only the JavaScript a profiler sees.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

export function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // the process ended meanwhile
    }
    // Fields after the parenthesised command name: state ppid pgrp … utime(14) stime(15), 1-based.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/**
 * Time the threads of a process group (or of this process, `pgid` null) spent runnable but waiting for
 * a CPU, in milliseconds (Linux schedstat): on a machine shared with other work, how long our own
 * processes were held back by it.
 */
export function groupRunQueueWaitMs(pgid: number | null): number {
  let ns = 0;
  const pids = pgid === null ? [String(process.pid)] : readdirSync("/proc").filter((e) => /^\d+$/.test(e) && inGroup(e, pgid));
  for (const pid of pids) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[1] ?? 0);
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return ns / 1e6;
}

function inGroup(pid: string, pgid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === pgid;
  } catch {
    return false;
  }
}
