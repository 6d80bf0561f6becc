/**
 * The Workflows engine stops a running instance (pause, terminate, restart) by rejecting its pending
 * step promises with an "Aborting engine: …" error. Our own catch blocks must let that through:
 * treating it as a failed step would record a paused run as failed or a paused group as dropped.
 */
export function rethrowEngineAbort(error: unknown): void {
  if (error instanceof Error && error.message.startsWith("Aborting engine:")) throw error;
}
