/**
 * The traffic policy in force on a deployment and its candidate's guard window: a canary or
 * shadow watched by its guards, or a rollout moving step by step (each held for its duration
 * and request count, its guards checked as requests arrive) until the candidate is promoted or
 * rolled back. Functions over the deployment's policy fields (`RolloutState`), so the
 * deployment carries no second object on the request path.
 */
import { guardBreach, type ResolvedPolicy } from './policy';
import { GuardStats } from './stats';
import type { DeploymentHost } from './types';

/** A deployment's policy fields, and what a rollout needs of the deployment. */
export interface RolloutState {
  readonly name: string;
  readonly primary: string | undefined;
  readonly host: DeploymentHost;
  policy: ResolvedPolicy;
  /** The candidate's and the primary's requests since the policy (or the rollout step) began. */
  window: GuardStats | undefined;
  step: number;
  stepStartedAt: number;
  stepTimer: unknown;
  /** Gives `version` all traffic (the rollout's last step has passed). */
  promote(version: string): void;
}

/** Puts `p` in force (its versions already checked), in place of the policy before it. */
export function beginPolicy(d: RolloutState, p: ResolvedPolicy): void {
  endPolicy(d);
  if (p.type !== 'single') d.policy = p;
  d.host.events.emit('policyChanged', { name: d.name, policy: p });
  if (p.type === 'rollout') enterStep(d, 0);
  else if (p.type === 'canary' || p.type === 'shadow') d.window = new GuardStats();
}

/** Back to the single policy: the primary takes all traffic. */
export function endPolicy(d: RolloutState): void {
  if (d.stepTimer !== undefined) d.host.clock.clearTimeout(d.stepTimer);
  d.stepTimer = undefined;
  d.policy = { type: 'single' };
  d.window = undefined;
  d.step = 0;
}

/** The version on trial (canary, shadow, rollout), if any. */
export function candidateOf(d: RolloutState): string | undefined {
  const p = d.policy;
  return p.type === 'canary' || p.type === 'shadow' || p.type === 'rollout' ? p.version : undefined;
}

/** Takes traffic away from the candidate, with the guard window that led there. */
export function rollBackCandidate(d: RolloutState, candidate: string, reason: string): void {
  const window = d.window?.snapshot();
  endPolicy(d);
  d.host.events.emit('rolledBack', {
    name: d.name,
    version: candidate,
    restored: d.primary,
    reason,
    window,
  });
  d.host.events.emit('policyChanged', { name: d.name, policy: d.policy });
}

function enterStep(d: RolloutState, i: number): void {
  const p = d.policy;
  if (p.type !== 'rollout') return;
  d.step = i;
  d.stepStartedAt = d.host.clock.now();
  d.window = new GuardStats();
  if (d.stepTimer !== undefined) d.host.clock.clearTimeout(d.stepTimer);
  d.stepTimer = undefined;
  const s = p.steps[i]!;
  d.host.events.emit('rolloutStep', {
    name: d.name,
    version: p.version,
    step: i,
    weight: s.weight,
  });
  if (s.durationMs !== undefined && s.durationMs > 0) {
    d.stepTimer = d.host.clock.setTimeout(() => {
      d.stepTimer = undefined;
      advance(d);
    }, s.durationMs);
  }
  advance(d);
}

/** Moves a rollout on when its step has been held long enough and its guards hold. */
export function advance(d: RolloutState): void {
  const p = d.policy;
  if (p.type !== 'rollout' || d.window === undefined) return;
  if (checkGuards(d)) return;
  const s = p.steps[d.step]!;
  if (s.durationMs !== undefined && d.host.clock.now() - d.stepStartedAt < s.durationMs) return;
  if (s.minRequests !== undefined && d.window.candidate.requests < s.minRequests) return;
  if (d.step + 1 < p.steps.length) enterStep(d, d.step + 1);
  else d.promote(p.version);
}

/** True when a guard fired (and the candidate was rolled back). */
export function checkGuards(d: RolloutState): boolean {
  const p = d.policy;
  if (p.type === 'single' || p.type === 'ab' || p.guards === undefined || d.window === undefined)
    return false;
  const window = d.window.snapshot();
  let reason: string | undefined;
  try {
    reason = guardBreach(p.guards, window);
  } catch (e) {
    reason = `guards.check threw: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (reason === undefined) return false;
  rollBackCandidate(d, p.version, reason);
  return true;
}
