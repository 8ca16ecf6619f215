export {
  type KmeansBackgroundOptions,
  kmeansBackground,
  LARGE_BACKGROUND,
  sampleRows,
  type WeightedBackground,
} from './background';
export { explain } from './explain';
export { type ExplanationReport, type RowExplanations, renderExplanationHtml } from './html';
export {
  type ExplainImageOptions,
  explainImage,
  type ImageExplanation,
  type ImageLayout,
  type ImageRegion,
} from './image';
export {
  type PermutationImportance,
  type PermutationImportanceOptions,
  permutationImportance,
} from './importance';
export { type ExplanationJSON, explanationToJSON } from './json';
export {
  mquantiles,
  type PartialDependence,
  type PartialDependenceOptions,
  partialDependence,
  partialDependenceGrid,
} from './partial-dependence';
export type {
  Attribution,
  ExplainedOutput,
  ExplainMethod,
  ExplainOptions,
  ExplainRows,
  ExplainRunOptions,
  Explanation,
} from './types';
