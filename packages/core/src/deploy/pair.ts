/**
 * A request answered by one version and copied to another (a shadow, or the primary beside a
 * canary), kept until both answers are in and then compared.
 */
import type { NamedTensors } from '../tensor/tensor';
import { type CompareOptions, disagreement } from './compare';

/** The two answers to one request, as they arrive. */
export class Pair {
  primaryOut: NamedTensors | undefined;
  candidateOut: NamedTensors | undefined;
  primaryMs = -1;
  candidateMs = -1;
  candidateError: unknown;
  arrived = 0;

  constructor(
    readonly primary: string,
    readonly candidate: string,
  ) {}

  /** Keeps the answer (or failure) of `version`, `ms` after the request; true once both are in. */
  arrive(version: string, output: NamedTensors | undefined, error: unknown, ms: number): boolean {
    if (version === this.primary && this.primaryMs < 0) {
      this.primaryOut = output;
      this.primaryMs = ms;
    } else {
      this.candidateOut = output;
      this.candidateMs = ms;
      this.candidateError = error;
    }
    return ++this.arrived >= 2;
  }

  /**
   * How far the candidate's answer is from the primary's; undefined when either failed. A
   * comparison that throws (outputs of different shapes) becomes the candidate's error.
   */
  disagreement(compare: CompareOptions): number | undefined {
    if (this.primaryOut === undefined || this.candidateOut === undefined) return undefined;
    try {
      return disagreement(this.primaryOut, this.candidateOut, compare);
    } catch (e) {
      this.candidateError ??= e;
      return undefined;
    }
  }
}
