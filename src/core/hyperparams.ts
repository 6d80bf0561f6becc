import { z } from "zod";

/** Training hyperparameters; every field optional so agents and runs can override a subset. */
export const hyperparamsSchema = z.object({
  epochs: z.number().int().min(1).max(20),
  batchSize: z.number().int().min(1).max(1000),
  groupSize: z.number().int().min(1).max(32),
  temperature: z.number().min(0).max(2),
  experiencesPerGroup: z.number().int().min(1).max(5),
  maxExperiences: z.number().int().min(1).max(200),
  maxWordsPerExperience: z.number().int().min(5).max(100),
  maxGroupsInFlight: z.number().int().min(1).max(256),
  /**
   * false: no-ground-truth mode (docs/learning.md): every group is kept and the reflection prompts see
   * neither answers nor rewards, as in the paper's ablation; what unlabelled traffic is trained with.
   */
  groundTruth: z.boolean(),
  /** An item never cited by a critique in this many batches is proposed for deletion. */
  staleAfterBatches: z.number().int().min(1).max(1000),
});

export type Hyperparams = z.infer<typeof hyperparamsSchema>;
export const partialHyperparamsSchema = hyperparamsSchema.partial().strict();
export type PartialHyperparams = z.infer<typeof partialHyperparamsSchema>;

/** The paper's settings for math (Cai et al., 2025); batch size defaults to the whole set up to 100. */
export const PAPER_DEFAULTS: Omit<Hyperparams, "batchSize"> = {
  epochs: 3,
  groupSize: 5,
  temperature: 0.7,
  experiencesPerGroup: 1,
  maxExperiences: 40,
  maxWordsPerExperience: 32,
  maxGroupsInFlight: 16,
  groundTruth: true,
  staleAfterBatches: 3,
};

/** Run overrides, then agent defaults, then the paper's. */
export function resolveHyperparams(datasetSize: number, ...layers: PartialHyperparams[]): Hyperparams {
  const merged: PartialHyperparams = { ...PAPER_DEFAULTS };
  for (const layer of [...layers].reverse()) Object.assign(merged, stripUndefined(layer));
  return hyperparamsSchema.parse({ batchSize: Math.max(1, Math.min(100, datasetSize)), ...merged });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A run's or evaluation's seed; every LLM call's seed is derived from it. */
export const seedSchema = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

/** The caps an agent's library is held to outside training too (manual edits, imports): its defaults, else the paper's. */
export function libraryCapsOf(trainingDefaults: unknown): { maxExperiences: number; maxWords: number } {
  const parsed = partialHyperparamsSchema.safeParse(trainingDefaults);
  const layer = parsed.success ? parsed.data : {};
  return {
    maxExperiences: layer.maxExperiences ?? PAPER_DEFAULTS.maxExperiences,
    maxWords: layer.maxWordsPerExperience ?? PAPER_DEFAULTS.maxWordsPerExperience,
  };
}
