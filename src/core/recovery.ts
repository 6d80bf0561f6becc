/**
 * What recovery of an interrupted run or evaluation looks after (docs/architecture.md §4), pure.
 *
 * An evaluation spawns its chunk instances in waves, one wave after the other finished. After an
 * interruption it waits somewhere in the waves up to the first one with an unrecorded member: those
 * before it have all recorded their outcome (but one of their reports may have been lost), and the first
 * one may not have been spawned at all. Later waves are the parent's to spawn when it gets there. (A
 * training run's lanes are spawned a batch at a time: src/recovery/recover.ts looks after them.)
 */

export type RecoveryItem<T> = { item: T; wave: number; recorded: boolean };

/** Members of every wave up to and including the first with an unrecorded member (all, when none is). */
export function itemsToRecover<T>(waves: readonly (readonly T[])[], recorded: (item: T) => boolean): RecoveryItem<T>[] {
  const out: RecoveryItem<T>[] = [];
  for (const [wave, members] of waves.entries()) {
    let open = false;
    for (const item of members) {
      const done = recorded(item);
      open ||= !done;
      out.push({ item, wave, recorded: done });
    }
    if (open) break;
  }
  return out;
}

export type BatchVersion = { epoch: number; batch: number; version: number | null };

/**
 * The library version a batch started from: the version made by the last earlier batch that made one
 * (a dropped or empty batch keeps the version), else the run's starting version.
 */
export function versionBefore(batches: readonly BatchVersion[], epoch: number, batch: number, fromVersion: number): number {
  let version = fromVersion;
  let at: [number, number] = [-Infinity, -Infinity];
  for (const b of batches) {
    const earlier = b.epoch < epoch || (b.epoch === epoch && b.batch < batch);
    const later = b.epoch > at[0] || (b.epoch === at[0] && b.batch > at[1]);
    if (earlier && later && b.version !== null) {
      version = b.version;
      at = [b.epoch, b.batch];
    }
  }
  return version;
}
