/**
 * The Vitest matchers, gathered: tensors (tensor-matchers.ts), model quality (metric
 * thresholds, regression against a baseline, calibration: quality-matchers.ts), metamorphic
 * tests (behaviour-matchers.ts), what the predictions depend on (explain-matchers.ts), and here
 * the model's signature and drift of data from a profile. Each failure message says what was
 * expected, what came out, and where to look.
 */
import type { MatcherState } from 'vitest';
import type { Row } from '../evaluate/types';
import { type DriftOptions, detectDrift } from '../monitor/drift';
import { Profile } from '../monitor/profile';
import { formatShape, type TensorSpec } from '../tensor/spec';
import { behaviourMatchers } from './behaviour-matchers';
import { explainMatchers } from './explain-matchers';
import { checkModel, fmt, modelName, type Result, table } from './matcher-format';
import { qualityMatchers } from './quality-matchers';
import { tensorMatchers } from './tensor-matchers';

/** A partial signature: the inputs and outputs named here must have these dtypes and shapes. */
export interface SignatureExpectation {
  inputs?: readonly Partial<TensorSpec>[];
  outputs?: readonly Partial<TensorSpec>[];
}

/**
 * The matchers, for `expect.extend(modelMatchers)` (or `import '@modelship/core/testing/setup'`).
 */
export const modelMatchers = {
  ...tensorMatchers,
  ...qualityMatchers,
  ...behaviourMatchers,
  /**
   * The rows drift from a reference profile: the share of drifted features reaches
   * `driftShare` (default 0.5), with Evidently's choice of test per feature. Use it negated on
   * live or candidate data: `expect(batch).not.toDriftFrom(profile)`.
   */
  toDriftFrom(this: MatcherState, rows: unknown, profile: Profile, options: DriftOptions = {}): Result {
    if (
      !Profile.isInstance(profile) &&
      (typeof profile !== 'object' || profile === null || !Array.isArray((profile as Profile).features))
    )
      throw new TypeError(
        'toDriftFrom: the reference must be a Profile (Profile.fromDataset or Profile.fromJSON)',
      );
    // A Profile from any copy of core is used as it is; anything else is read as profile JSON.
    const reference = Profile.isInstance(profile) ? profile : Profile.fromJSON(profile);
    const report = detectDrift(reference, rows as Row[], options);
    const lines = table([
      ['feature', 'test', 'score', 'threshold', ''],
      ...report.features.map((f) => [
        f.feature,
        f.method,
        fmt(f.score),
        String(f.threshold),
        f.drifted ? 'DRIFTED' : 'ok',
      ]),
    ]);
    const summary = `${report.driftedFeatures} of ${report.features.length} features drifted (share ${fmt(report.share)}, dataset drift at ≥ ${report.driftShare}) on ${report.currentRows} rows against a ${report.referenceRows}-row reference`;
    return {
      pass: report.datasetDrift,
      message: () =>
        [
          this.isNot ? `expected no drift, but ${summary}:` : `expected drift, but ${summary}:`,
          ...lines,
        ].join('\n'),
    };
  },

  /** The model declares the named inputs and outputs with these dtypes and shapes (others may exist). */
  toHaveSignature(this: MatcherState, model: unknown, expected: SignatureExpectation): Result {
    checkModel(model, 'toHaveSignature');
    const problems: string[] = [];
    for (const side of ['inputs', 'outputs'] as const) {
      for (const want of expected[side] ?? []) {
        const have = model.signature[side].find((s) => s.name === want.name);
        if (have === undefined) {
          problems.push(
            `${side.slice(0, -1)} '${want.name}' is missing (${side}: ${model.signature[side].map((s) => `'${s.name}'`).join(', ')})`,
          );
          continue;
        }
        if (want.dtype !== undefined && want.dtype !== have.dtype)
          problems.push(`${side.slice(0, -1)} '${want.name}' is ${have.dtype}, expected ${want.dtype}`);
        if (want.shape !== undefined && formatShape(want.shape) !== formatShape(have.shape))
          problems.push(
            `${side.slice(0, -1)} '${want.name}' has shape ${formatShape(have.shape)}, expected ${formatShape(want.shape)}`,
          );
        if (want.labels !== undefined && JSON.stringify(want.labels) !== JSON.stringify(have.labels ?? null))
          problems.push(
            `${side.slice(0, -1)} '${want.name}' has labels ${JSON.stringify(have.labels ?? null)}, expected ${JSON.stringify(want.labels)}`,
          );
      }
    }
    return {
      pass: problems.length === 0,
      message: () =>
        this.isNot
          ? `expected ${modelName(model)} not to have that signature, but it does`
          : `${modelName(model)} does not have the expected signature:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    };
  },
  ...explainMatchers,
};
