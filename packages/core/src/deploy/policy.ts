import { describe, invalidArgument } from '../errors';
import { type CompareOptions, checkCompareOptions } from './compare';
import type { WindowSnapshot } from './stats';

/**
 * Limits a candidate version must stay within while it takes traffic (canary, shadow, rollout).
 * Crossing one rolls the candidate back: it stops receiving traffic at once and the primary
 * takes all of it.
 */
export interface Guards {
  /** Requests the candidate must have answered in the current window before any limit judges (default 50). */
  minRequests?: number;
  /** The largest tolerated share of failed requests, in [0, 1]. */
  maxErrorRate?: number;
  /** The largest tolerated p99 latency of the candidate, in milliseconds. */
  maxP99LatencyMs?: number;
  /** The largest tolerated ratio of the candidate's p99 latency to the primary's over the same window. */
  maxP99LatencyRatio?: number;
  /**
   * The largest tolerated share of rows on which the candidate's outputs disagree with the
   * primary's (see `compare`). In a canary or rollout, a copy of each candidate request also
   * runs on the primary, off the response path, to measure it.
   */
  maxDisagreement?: number;
  /**
   * The largest tolerated share of the candidate's records with a data-quality finding (see
   * `Deployer.screen`), judged once `minRequests` records were screened.
   */
  maxQualityViolationRate?: number;
  /**
   * The largest tolerated share of the candidate's scored records at or above the outlier
   * detector's threshold (see `Deployer.screen`), judged once `minRequests` records were scored.
   */
  maxOutlierRate?: number;
  /**
   * The lowest tolerated accuracy of the candidate estimated from its answers before labels
   * arrive (CBPE, the screen's `performance` estimator), judged once `minRequests` rows were read.
   */
  minEstimatedAccuracy?: number;
  /**
   * Your own check, for example a Monitor's live metric: return a reason to roll back, or
   * `undefined` to carry on. Called after each candidate response once `minRequests` is reached.
   */
  check?: (window: GuardWindow) => string | undefined;
}

/** What a guard sees: the candidate's and the primary's traffic since the window began. */
export interface GuardWindow {
  candidate: WindowSnapshot;
  primary: WindowSnapshot;
}

/** One step of a progressive rollout: the candidate's share, held until both conditions are met. */
export interface RolloutStep {
  /** The candidate's share of traffic in this step, in (0, 1]. */
  weight: number;
  /** Hold the step at least this long (milliseconds). */
  durationMs?: number;
  /** Hold the step until the candidate has answered this many requests in it. */
  minRequests?: number;
}

/**
 * How requests that do not name a version are routed.
 * - `single`: every request goes to the primary version.
 * - `canary`: a `weight` share goes to `version`, the rest to the primary.
 * - `ab`: shares by version; with a `routingKey` the same key always reaches the same version.
 * - `shadow`: the primary answers; `version` gets a copy of a `sampleRate` share of the traffic
 *   and its outputs and latency are compared with the primary's. It never changes a response.
 * - `rollout`: `version` goes through `steps` of growing weight and is promoted after the last;
 *   `guards` roll it back.
 *
 * In `canary`, `shadow` and `rollout`, `version` defaults to the version being deployed.
 * Weighted routing hashes the request's `routingKey` when there is one (sticky: a key keeps its
 * version, and a growing weight only moves keys towards the candidate) and is random otherwise.
 */
export type TrafficPolicy =
  | { type: 'single' }
  | { type: 'canary'; version?: string; weight: number; guards?: Guards; compare?: CompareOptions }
  | { type: 'ab'; weights: Readonly<Record<string, number>> }
  | { type: 'shadow'; version?: string; sampleRate?: number; guards?: Guards; compare?: CompareOptions }
  | {
      type: 'rollout';
      version?: string;
      steps: readonly RolloutStep[];
      guards?: Guards;
      compare?: CompareOptions;
    };

/** A policy after validation, with the candidate version resolved. */
export type ResolvedPolicy =
  | { type: 'single' }
  | { type: 'canary'; version: string; weight: number; guards?: Guards; compare: CompareOptions }
  | { type: 'ab'; weights: Readonly<Record<string, number>> }
  | { type: 'shadow'; version: string; sampleRate: number; guards?: Guards; compare: CompareOptions }
  | {
      type: 'rollout';
      version: string;
      steps: readonly RolloutStep[];
      guards?: Guards;
      compare: CompareOptions;
    };

const share = (v: unknown, low: 'open' | 'closed'): boolean =>
  typeof v === 'number' && (low === 'open' ? v > 0 : v >= 0) && v <= 1;

/** Validates a policy as a user wrote it; `candidate` fills in a missing `version`. */
export function resolvePolicy(where: string, value: unknown, candidate: string | undefined): ResolvedPolicy {
  if (typeof value !== 'object' || value === null)
    throw invalidArgument(where, 'policy must be an object', value);
  const p = value as Record<string, unknown>;
  const allowed: Record<string, readonly string[]> = {
    single: ['type'],
    canary: ['type', 'version', 'weight', 'guards', 'compare'],
    ab: ['type', 'weights'],
    shadow: ['type', 'version', 'sampleRate', 'guards', 'compare'],
    rollout: ['type', 'version', 'steps', 'guards', 'compare'],
  };
  const type = p.type;
  if (typeof type !== 'string' || !(type in allowed)) {
    throw invalidArgument(where, `policy.type must be one of ${Object.keys(allowed).join(', ')}`, type);
  }
  for (const key of Object.keys(p)) {
    if (!allowed[type]!.includes(key))
      throw invalidArgument(where, `a ${type} policy has no option '${key}'`, p[key]);
  }
  if (type === 'single') return { type };
  if (type === 'ab') {
    const w = p.weights;
    if (typeof w !== 'object' || w === null || Object.keys(w).length < 2) {
      throw invalidArgument(
        where,
        'an ab policy needs weights for at least two versions, as { "3": 0.5, "4": 0.5 }',
        w,
      );
    }
    let sum = 0;
    for (const [version, weight] of Object.entries(w)) {
      if (!share(weight, 'closed'))
        throw invalidArgument(where, `weight of version '${version}' must be in [0, 1]`, weight);
      sum += weight as number;
    }
    if (Math.abs(sum - 1) > 1e-9) throw invalidArgument(where, `ab weights must add up to 1`, sum);
    return { type, weights: { ...(w as Record<string, number>) } };
  }
  const version = p.version ?? candidate;
  if (typeof version !== 'string' || version === '') {
    throw invalidArgument(where, `a ${type} policy needs the candidate's version`, version);
  }
  const guards = p.guards === undefined ? undefined : checkGuards(where, p.guards);
  const compare = checkCompareOptions(where, p.compare);
  if (type === 'canary') {
    if (!share(p.weight, 'closed'))
      throw invalidArgument(where, 'canary weight must be a number in [0, 1]', p.weight);
    return { type, version, weight: p.weight as number, guards, compare };
  }
  if (type === 'shadow') {
    const sampleRate = p.sampleRate ?? 1;
    if (!share(sampleRate, 'closed'))
      throw invalidArgument(where, 'shadow sampleRate must be in [0, 1]', sampleRate);
    return { type, version, sampleRate: sampleRate as number, guards, compare };
  }
  const steps = p.steps;
  if (!Array.isArray(steps) || steps.length === 0) {
    throw invalidArgument(where, 'a rollout needs steps, as [{ weight: 0.1, durationMs: 60000 }, …]', steps);
  }
  steps.forEach((s: unknown, i) => {
    const step = s as RolloutStep;
    if (typeof s !== 'object' || s === null || !share(step.weight, 'open')) {
      throw invalidArgument(where, `rollout step ${i} needs a weight in (0, 1]`, s);
    }
    for (const k of ['durationMs', 'minRequests'] as const) {
      const v = step[k];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw invalidArgument(where, `rollout step ${i}: ${k} must be a non-negative number`, v);
      }
    }
    if (step.durationMs === undefined && step.minRequests === undefined && i < steps.length - 1) {
      throw invalidArgument(
        where,
        `rollout step ${i} needs durationMs or minRequests, or it would never end`,
        s,
      );
    }
  });
  return { type: 'rollout', version, steps: steps.map((s: RolloutStep) => ({ ...s })), guards, compare };
}

function checkGuards(where: string, value: unknown): Guards {
  if (typeof value !== 'object' || value === null)
    throw invalidArgument(where, 'guards must be an object', value);
  const g = value as Record<string, unknown>;
  const known = [
    'minRequests',
    'maxErrorRate',
    'maxP99LatencyMs',
    'maxP99LatencyRatio',
    'maxDisagreement',
    'maxQualityViolationRate',
    'maxOutlierRate',
    'minEstimatedAccuracy',
    'check',
  ];
  for (const key of Object.keys(g)) {
    if (!known.includes(key))
      throw invalidArgument(where, `guards has no option '${key}' (known: ${known.join(', ')})`, g[key]);
  }
  for (const key of [
    'maxErrorRate',
    'maxDisagreement',
    'maxQualityViolationRate',
    'maxOutlierRate',
    'minEstimatedAccuracy',
  ]) {
    if (g[key] !== undefined && !share(g[key], 'closed'))
      throw invalidArgument(where, `guards.${key} must be in [0, 1]`, g[key]);
  }
  for (const key of ['minRequests', 'maxP99LatencyMs', 'maxP99LatencyRatio']) {
    const v = g[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw invalidArgument(where, `guards.${key} must be a non-negative number`, v);
    }
  }
  if (g.check !== undefined && typeof g.check !== 'function')
    throw invalidArgument(where, 'guards.check must be a function', g.check);
  return g as Guards;
}

/**
 * The reason a candidate breaks its guards, or `undefined` while it is within them (or has not
 * yet answered `minRequests` requests in the window).
 */
export function guardBreach(guards: Guards, window: GuardWindow): string | undefined {
  const c = window.candidate;
  const min = guards.minRequests ?? 50;
  // Screen counts (records) can reach minRequests while refused requests never count as answered.
  const answered = c.requests >= min;
  if (answered && guards.maxErrorRate !== undefined && c.errorRate > guards.maxErrorRate) {
    return `error rate ${fmt(c.errorRate)} is above maxErrorRate ${guards.maxErrorRate} (${c.errors} of ${c.requests})`;
  }
  if (
    answered &&
    guards.maxP99LatencyMs !== undefined &&
    c.p99Ms !== undefined &&
    c.p99Ms > guards.maxP99LatencyMs
  ) {
    return `p99 latency ${fmt(c.p99Ms)} ms is above maxP99LatencyMs ${guards.maxP99LatencyMs}`;
  }
  const p = window.primary;
  if (
    answered &&
    guards.maxP99LatencyRatio !== undefined &&
    c.p99Ms !== undefined &&
    p.p99Ms !== undefined &&
    p.requests >= min &&
    c.p99Ms > guards.maxP99LatencyRatio * p.p99Ms
  ) {
    return `p99 latency ${fmt(c.p99Ms)} ms is more than ${guards.maxP99LatencyRatio}× the primary's ${fmt(p.p99Ms)} ms`;
  }
  if (
    answered &&
    guards.maxDisagreement !== undefined &&
    c.compared >= min &&
    c.disagreement > guards.maxDisagreement
  ) {
    return `outputs disagree with the primary's on ${fmt(c.disagreement * 100)}% of rows, above maxDisagreement ${guards.maxDisagreement} (${c.compared} compared)`;
  }
  if (
    guards.maxQualityViolationRate !== undefined &&
    c.screened >= min &&
    c.qualityViolationRate > guards.maxQualityViolationRate
  ) {
    return `${fmt(c.qualityViolationRate * 100)}% of records have data-quality findings, above maxQualityViolationRate ${guards.maxQualityViolationRate} (${c.qualityViolations} of ${c.screened})`;
  }
  if (guards.maxOutlierRate !== undefined && c.scored >= min && c.outlierRate > guards.maxOutlierRate) {
    return `${fmt(c.outlierRate * 100)}% of records are outliers, above maxOutlierRate ${guards.maxOutlierRate} (${c.outliers} of ${c.scored})`;
  }
  if (
    guards.minEstimatedAccuracy !== undefined &&
    c.estimatedAccuracy !== undefined &&
    c.estimatedRows >= min &&
    c.estimatedAccuracy < guards.minEstimatedAccuracy
  ) {
    return `estimated accuracy ${fmt(c.estimatedAccuracy)} (CBPE, ${c.estimatedRows} rows without labels) is below minEstimatedAccuracy ${guards.minEstimatedAccuracy}`;
  }
  if (answered && guards.check !== undefined) {
    const reason = guards.check(window);
    if (reason !== undefined && reason !== '') {
      return typeof reason === 'string' ? reason : `guards.check returned ${describe(reason)}`;
    }
  }
  return undefined;
}

function fmt(x: number): string {
  return Number(x.toPrecision(3)).toString();
}
