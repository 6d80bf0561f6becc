import { z } from "zod";
import type { Experience } from "./library";

/**
 * Credit per experience (docs/learning.md, "Credit per experience"), in the spirit of ACE's
 * helpful/harmful counters: the group critique names, for each rollout, the items it followed and
 * whether each helped or hurt. Counters are kept per stable id across batches and versions.
 */
export type ItemStats = { cited: number; helpful: number; harmful: number; batches: number };

export const ZERO_STATS: ItemStats = { cited: 0, helpful: 0, harmful: 0, batches: 0 };

export const creditEntriesSchema = z.array(z.object({ rollout: z.number().int(), id: z.string(), verdict: z.enum(["helped", "hurt"]) }));
export type CreditEntry = z.infer<typeof creditEntriesSchema>[number];

/** Per-id tallies of one group or batch. */
export type CreditTally = Record<string, { cited: number; helpful: number; harmful: number }>;

/**
 * Reads `<credit><rollout index="1">E2 helped, E5 hurt</rollout>…</credit>`. Ids the library does not
 * hold and rollouts outside 1..attempts are ignored (a reviewer may misremember one); a missing block is
 * no credit, not an error, so a model that omits it still yields its experiences.
 */
export function parseCredit(text: string, known: readonly string[], attempts: number): CreditEntry[] {
  const block = /<credit\b[^>]*>([\s\S]*?)(?:<\/credit\s*>|$)/i.exec(text)?.[1] ?? "";
  const ids = new Set(known);
  const out: CreditEntry[] = [];
  for (const m of block.matchAll(/<rollout\s+index\s*=\s*["']?(\d+)["']?\s*>([\s\S]*?)(?=<\/rollout\s*>|<rollout\b|$)/gi)) {
    const rollout = Number(m[1]);
    if (!Number.isInteger(rollout) || rollout < 1 || rollout > attempts) continue;
    const seen = new Set<string>();
    for (const c of (m[2] ?? "").matchAll(/\[?\b(E\d+)\]?\s*[:=-]?\s*(helped|helpful|hurt|harmful)/gi)) {
      const id = (c[1] ?? "").toUpperCase();
      if (!ids.has(id) || seen.has(id)) continue;
      seen.add(id);
      out.push({ rollout, id, verdict: /^help/i.test(c[2] ?? "") ? "helped" : "hurt" });
    }
  }
  return out;
}

export function tallyCredit(entries: readonly CreditEntry[], into: CreditTally = {}): CreditTally {
  for (const e of entries) {
    const t = into[e.id] ?? { cited: 0, helpful: 0, harmful: 0 };
    into[e.id] = t;
    t.cited++;
    if (e.verdict === "helped") t.helpful++;
    else t.harmful++;
  }
  return into;
}

/** Adds a batch's tally to every item's stats and counts the batch for every item it saw. */
export function applyCredit(items: readonly Experience[], tally: CreditTally): Experience[] {
  return items.map((item) => {
    const s = item.stats ?? ZERO_STATS;
    const t = tally[item.id];
    return {
      ...item,
      stats: {
        cited: s.cited + (t?.cited ?? 0),
        helpful: s.helpful + (t?.helpful ?? 0),
        harmful: s.harmful + (t?.harmful ?? 0),
        batches: s.batches + 1,
      },
    };
  });
}

/** Items whose record argues for deletion: they hurt more than they helped, or were never cited in `staleAfterBatches` batches. */
export function deletionCandidates(items: readonly Experience[], staleAfterBatches: number): { id: string; reason: string }[] {
  const out: { id: string; reason: string }[] = [];
  for (const item of items) {
    const s = item.stats ?? ZERO_STATS;
    if (s.harmful > s.helpful) out.push({ id: item.id, reason: `hurt more than it helped (helpful ${s.helpful}, harmful ${s.harmful})` });
    else if (s.cited === 0 && s.batches >= staleAfterBatches) out.push({ id: item.id, reason: `never cited in ${s.batches} batches` });
  }
  return out;
}

export function formatStats(s: ItemStats): string {
  return `cited ${s.cited}, helpful ${s.helpful}, harmful ${s.harmful}, over ${s.batches} batch(es)`;
}
