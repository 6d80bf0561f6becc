/**
 * Tells when something being watched has made no progress for a while: `check(progress, now)` is true
 * once `progress` has kept the same value for `afterMs`, and then again only after another `afterMs`
 * without change (so a watcher acting on it acts at most once per period).
 */
export function stallDetector(afterMs: number): (progress: string, now: number) => boolean {
  let last: string | null = null;
  let since = 0;
  return (progress, now) => {
    if (progress !== last) {
      last = progress;
      since = now;
      return false;
    }
    if (now - since < afterMs) return false;
    since = now;
    return true;
  };
}
