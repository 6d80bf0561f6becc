/**
 * The Workflows engine stops a running instance (pause, terminate, restart) by rejecting its pending
 * step promises with an "Aborting engine: …" error. Our own catch blocks must let that through:
 * treating it as a failed step would record a paused run as failed or a paused group as dropped.
 */
export function rethrowEngineAbort(error: unknown): void {
  if (error instanceof Error && error.message.startsWith("Aborting engine:")) throw error;
}

/** Workflows accept at most this many instances per createBatch call. */
const CREATE_BATCH_LIMIT = 100;

/**
 * Creates Workflow instances with deterministic ids. Existence is checked only after a failed create:
 * looking up an id that does not exist yet makes the local engine log "Engine was never started" and
 * leave a stub behind. A retried step that finds its instances already there skips them.
 */
export async function createInstances<P>(workflow: Workflow<P>, requests: { id: string; params: P }[]): Promise<void> {
  for (let i = 0; i < requests.length; i += CREATE_BATCH_LIMIT) {
    const chunk = requests.slice(i, i + CREATE_BATCH_LIMIT);
    try {
      await workflow.createBatch(chunk);
    } catch {
      for (const request of chunk) {
        try {
          await workflow.create(request);
        } catch (error) {
          if (
            !(await workflow.get(request.id).then(
              () => true,
              () => false,
            ))
          )
            throw error;
        }
      }
    }
  }
}
