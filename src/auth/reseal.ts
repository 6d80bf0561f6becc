import { agentsWithSealedKeys, replaceSealedKey } from "../db/agents";
import type { Db } from "../db/client";
import { isCurrent, openWithRing, sealWithRing, type KeyRing } from "./keyRing";

import type { ResealReport } from "../contract";

/**
 * The rotation step (docs/security.md, "Rotating the encryption key"): every stored upstream key not
 * sealed with the current ENCRYPTION_KEY is opened (with ENCRYPTION_KEY_PREVIOUS, or the key it was
 * sealed with before versioning) and sealed again under the current key, bound to its agent. Safe to
 * repeat; a key that cannot be opened is reported and left as it is.
 */
export async function resealAgentKeys(d: Db, ring: KeyRing): Promise<ResealReport> {
  const report: ResealReport = { keyId: ring.current.id, resealed: 0, alreadyCurrent: 0, failed: [] };
  for (const { id, cipher } of await agentsWithSealedKeys(d)) {
    if (isCurrent(cipher, ring)) {
      report.alreadyCurrent++;
      continue;
    }
    let plain: string;
    try {
      plain = await openWithRing(cipher, id, ring);
    } catch {
      report.failed.push({ agentId: id, reason: "cannot be opened with ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS" });
      continue;
    }
    if (await replaceSealedKey(d, id, cipher, await sealWithRing(plain, id, ring))) report.resealed++;
    else report.alreadyCurrent++;
  }
  return report;
}
