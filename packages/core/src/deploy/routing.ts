/**
 * How traffic splits under a policy: which loaded version answers a request and which gets a
 * copy of it (a shadow, or the primary answering beside a candidate for comparison), and each
 * version's share for `status()`.
 */
import type { ResolvedPolicy } from './policy';

/** Where one request goes: the version that answers it and, for shadow and compare, the one given a copy. */
export interface Route<V> {
  target: V;
  copy: V | undefined;
  copyRole: 'shadow' | 'compare';
}

/**
 * Routes a request under `p` (not the single policy) at `point` in [0, 1) (its routing key's
 * hash, or a draw): A/B by cumulative weights; a shadow copied at its sample rate (a second draw
 * of `random`); a canary or rollout step taking the low end of [0, 1), so as its weight grows
 * keys only move to it, with a copy to the primary when guards compare the two.
 */
export function route<V>(
  p: Exclude<ResolvedPolicy, { type: 'single' }>,
  step: number,
  point: number,
  primary: V,
  versions: ReadonlyMap<string, V>,
  random: () => number,
): Route<V> {
  let target = primary;
  let copy: V | undefined;
  let copyRole: Route<V>['copyRole'] = 'shadow';
  if (p.type === 'ab') {
    let acc = 0;
    for (const v in p.weights) {
      acc += p.weights[v]!;
      if (point < acc) {
        target = versions.get(v) ?? primary;
        break;
      }
    }
  } else if (p.type === 'shadow') {
    if (p.sampleRate >= 1 || random() < p.sampleRate) copy = versions.get(p.version);
  } else {
    const weight = p.type === 'canary' ? p.weight : p.steps[step]!.weight;
    if (point < weight) {
      target = versions.get(p.version) ?? primary;
      if (target !== primary && p.guards?.maxDisagreement !== undefined) {
        copy = primary;
        copyRole = 'compare';
      }
    }
  }
  return { target, copy, copyRole };
}

/** The share of traffic `version` takes under `p` (at rollout step `step`). */
export function trafficShare(
  p: ResolvedPolicy,
  step: number,
  version: string,
  primaryVersion: string | undefined,
): number {
  const primary = version === primaryVersion ? 1 : 0;
  switch (p.type) {
    case 'single':
    case 'shadow':
      return primary;
    case 'ab':
      return p.weights[version] ?? 0;
    default: {
      const w = p.type === 'canary' ? p.weight : p.steps[step]!.weight;
      return version === p.version ? w : primary * (1 - w);
    }
  }
}
