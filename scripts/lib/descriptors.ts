/**
 * Open file descriptors of the processes of a process group, by kind (Linux /proc). `wrangler dev`
 * runs in a group of its own (scripts/lib/wranglerDev.ts): one workerd process serves the Worker and its
 * Workflow engine, another runs wrangler's proxy in front of it. Used by the descriptor e2e test and by
 * `npm start`'s health watch.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export type Descriptors = {
  pid: number;
  /** Executable name, e.g. "workerd". */
  name: string;
  /** The first 200 characters of the command line. */
  command: string;
  total: number;
  sockets: number;
  /** SQLite databases and their -wal/-shm files (the local engine keeps three per Durable Object). */
  sqlite: number;
  other: number;
};

function statFields(pid: string): { name: string; pgrp: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    // Fields after the parenthesised name: state ppid pgrp …
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { name, pgrp: Number(fields[2]) };
  } catch {
    return null; // the process ended meanwhile
  }
}

export function processDescriptors(pid: number, name = ""): Descriptors | null {
  let entries: string[];
  let command = "";
  try {
    entries = readdirSync(`/proc/${pid}/fd`);
    command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim().slice(0, 200);
  } catch {
    return null;
  }
  const d: Descriptors = { pid, name, command, total: 0, sockets: 0, sqlite: 0, other: 0 };
  for (const fd of entries) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    d.total++;
    if (target.startsWith("socket:")) d.sockets++;
    else if (/\.sqlite(-wal|-shm)?$/.test(target)) d.sqlite++;
    else d.other++;
  }
  return d;
}

/** Every process of group `pgid` whose executable name is `name` (all of them when omitted). */
export function groupDescriptors(pgid: number, name?: string): Descriptors[] {
  const out: Descriptors[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statFields(entry);
    if (!stat || stat.pgrp !== pgid || (name !== undefined && stat.name !== name)) continue;
    const d = processDescriptors(Number(entry), stat.name);
    if (d) out.push(d);
  }
  return out;
}

/** The soft limit on open files of a process (`Max open files` in /proc/<pid>/limits), or null. */
export function openFileLimit(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) && soft > 0 ? soft : null;
  } catch {
    return null;
  }
}
