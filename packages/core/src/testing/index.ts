/**
 * `@modelship/core/testing`: Vitest matchers for models and tensors, and row transforms for
 * metamorphic tests. Register the matchers with `import '@modelship/core/testing/setup'` (in a
 * test file or `setupFiles`) or `expect.extend(modelMatchers)`.
 */
import type { Dataset, MetricName } from '../evaluate/types';
import type { ExplainRows } from '../explain/types';
import type { Model } from '../model/model';
import type { DriftOptions } from '../monitor/drift';
import type { Profile } from '../monitor/profile';
import type { DirectionOptions, InvarianceOptions } from './behaviour-matchers';
import type { DependenceOptions, TopFeaturesOptions } from './explain-matchers';
import type { SignatureExpectation } from './matchers';
import type {
  CalibrationOptions,
  MeetMetricsOptions,
  MetricBound,
  RegressionOptions,
} from './quality-matchers';
import type { CloseOptions } from './tensor-compare';
import type { RowTransform } from './transforms';

export type { DirectionOptions, InvarianceOptions } from './behaviour-matchers';
export {
  type DependenceOptions,
  type FeatureImportance,
  meanAbsAttributions,
  type TopFeaturesOptions,
} from './explain-matchers';
export { modelMatchers, type SignatureExpectation } from './matchers';
export type {
  CalibrationOptions,
  MeetMetricsOptions,
  MetricBound,
  RegressionOptions,
} from './quality-matchers';
export { type CloseOptions, type Comparison, compareFlat, type Flat, toFlat } from './tensor-compare';
export { summarize, type TensorSummary } from './tensor-snapshot';
export { addNoise, type RowTransform, scale, shift } from './transforms';

/** The matchers' types, merged into Vitest's `expect(...)`. */
export interface ModelMatchers<R = unknown> {
  /** numpy `allclose`: |received − expected| ≤ atol + rtol·|expected| (defaults 1e-5, 1e-8), shapes equal. */
  toBeCloseToTensor(expected: unknown, options?: CloseOptions): R;
  toHaveShape(shape: readonly number[]): R;
  toHaveDType(dtype: string): R;
  /** A numeric snapshot of the tensor, compared within tolerance; `vitest -u` updates it. */
  toMatchTensorSnapshot(options?: CloseOptions): R;
  toMeetMetrics(
    dataset: Dataset,
    bounds: Partial<Record<MetricName, MetricBound>>,
    options?: MeetMetricsOptions,
  ): Promise<R>;
  toBeInvariantTo(transform: RowTransform, dataset: Dataset, options?: InvarianceOptions): Promise<R>;
  toRespondTo(transform: RowTransform, dataset: Dataset, options: DirectionOptions): Promise<R>;
  toRegressFrom(baseline: Model, dataset: Dataset, options?: RegressionOptions): Promise<R>;
  toBeCalibrated(dataset: Dataset, options?: CalibrationOptions): Promise<R>;
  toHaveSignature(expected: SignatureExpectation): R;
  /** The rows drift from the reference profile (share of drifted features ≥ `driftShare`). */
  toDriftFrom(profile: Profile, options?: DriftOptions): R;
  /**
   * The feature's share of the mean |attribution| over the rows (Shapley values from `explain`)
   * exceeds `maxShare` (default 0.01). Negated: `await expect(model).not.toDependOn('gender', rows, { background })`.
   */
  toDependOn(feature: string, rows: ExplainRows, options: DependenceOptions): Promise<R>;
  /** The named features are among the `k` largest by mean |attribution| (k defaults to how many are named). */
  toHaveTopFeatures(features: readonly string[], rows: ExplainRows, options: TopFeaturesOptions): Promise<R>;
}

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExplicitAny: Vitest declares Matchers<T = any>; the merge must match it.
  interface Matchers<T = any> extends ModelMatchers<T> {}
}
