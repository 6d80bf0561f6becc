/**
 * The warning a promotion carries when the version was learned with another upstream model than the
 * one the agent serves: the paper's authors found that experiences learned with one model transfer
 * poorly to another (docs/ownership.md, "Which model a version was learned with"). A version whose
 * model is unknown (made before it was recorded) or no library at all warns of nothing.
 */
export function modelMismatchWarning(version: { version: number; model: string | null } | null, servedModel: string): string | null {
  if (version === null || version.model === null || version.model === servedModel) return null;
  return `version ${version.version} was learned with model '${version.model}' but the agent serves '${servedModel}'; experiences often do not transfer across models, so evaluate it on this model before relying on it`;
}
