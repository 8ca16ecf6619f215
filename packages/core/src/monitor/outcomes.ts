/**
 * Live performance: what the model answered for each request, kept until its true label
 * arrives, joined with it, and scored with the Evaluator's metric functions over the most
 * recent labeled predictions of each version.
 */
import { invalidArgument } from '../errors';
import { accuracy, f1 } from '../metrics/classification';
import type { Label } from '../metrics/labels';
import { rocAuc } from '../metrics/ranking';

/** What the model answered for a request, kept until its true label arrives. */
export interface PendingPrediction {
  model: string;
  version: string;
  /** The predicted label. */
  predicted: Label;
  /** The positive class's score, for ROC AUC (binary tasks). */
  score?: number;
}

/** Live quality of a version from labels that arrived after the predictions. */
export interface LivePerformance {
  model: string;
  version: string;
  /** Predictions joined with their true label (the most recent `outcomeWindow`). */
  labeled: number;
  accuracy: number;
  /** F1 of the positive class (binary, with `positiveLabel`) or macro F1. */
  f1: number;
  /** ROC AUC when scores were recorded and both classes are present. */
  rocAuc?: number;
}

/** A version's labeled predictions, a ring of `outcomeWindow`. */
interface Outcomes {
  predicted: Label[];
  truth: Label[];
  scores: (number | undefined)[];
  next: number;
}

/** Predictions waiting for their label, and the labeled ones of each version. */
export class LabelJoin {
  private readonly pending = new Map<string, PendingPrediction & { at: number }>();
  private readonly outcomes = new Map<string, Outcomes>();

  constructor(
    private readonly maxPending: number,
    private readonly outcomeWindow: number,
    private readonly now: () => number,
  ) {}

  /**
   * Keeps what the model answered for `requestId` until its true label arrives
   * ({@link recordOutcome}). At most `maxPending` wait; the oldest are dropped first.
   */
  recordPrediction(requestId: string, prediction: PendingPrediction): void {
    if (typeof requestId !== 'string' || requestId === '')
      throw invalidArgument('Monitor.recordPrediction', 'requestId must be a non-empty string', requestId);
    if (typeof prediction?.model !== 'string' || typeof prediction.version !== 'string')
      throw invalidArgument('Monitor.recordPrediction', 'the prediction needs model and version', prediction);
    if (typeof prediction.predicted !== 'number' && typeof prediction.predicted !== 'string')
      throw invalidArgument(
        'Monitor.recordPrediction',
        'predicted must be a label (number or string)',
        prediction.predicted,
      );
    this.pending.delete(requestId);
    this.pending.set(requestId, { ...prediction, at: this.now() });
    if (this.pending.size > this.maxPending) this.pending.delete(this.pending.keys().next().value as string);
  }

  /**
   * Joins the true label of an earlier prediction. Returns false when the request is unknown
   * (never recorded, or dropped as too old).
   */
  recordOutcome(requestId: string, label: Label): boolean {
    const p = this.pending.get(requestId);
    if (p === undefined) return false;
    if (typeof label !== 'number' && typeof label !== 'string')
      throw invalidArgument('Monitor.recordOutcome', 'label must be a number or a string', label);
    this.pending.delete(requestId);
    const key = `${p.model}\u0000${p.version}`;
    let o = this.outcomes.get(key);
    if (o === undefined) {
      o = { predicted: [], truth: [], scores: [], next: 0 };
      this.outcomes.set(key, o);
    }
    if (o.predicted.length < this.outcomeWindow) {
      o.predicted.push(p.predicted);
      o.truth.push(label);
      o.scores.push(p.score);
    } else {
      o.predicted[o.next] = p.predicted;
      o.truth[o.next] = label;
      o.scores[o.next] = p.score;
    }
    o.next = (o.next + 1) % this.outcomeWindow;
    return true;
  }

  /**
   * Accuracy, F1 and ROC AUC of each version on its most recent labeled predictions, with the
   * Evaluator's metric functions. `positiveLabel` makes F1 binary (default: macro F1).
   */
  performance(options: { positiveLabel?: Label } = {}): LivePerformance[] {
    const out: LivePerformance[] = [];
    for (const [key, o] of this.outcomes) {
      const [model, version] = key.split('\u0000') as [string, string];
      if (o.truth.length === 0) continue;
      const binary = options.positiveLabel !== undefined;
      const result: LivePerformance = {
        model,
        version,
        labeled: o.truth.length,
        accuracy: accuracy(o.truth, o.predicted),
        f1: f1(
          o.truth,
          o.predicted,
          binary
            ? { average: 'binary', positiveLabel: options.positiveLabel, zeroDivision: 0 }
            : { average: 'macro', zeroDivision: 0 },
        ) as number,
      };
      if (binary && o.scores.every((s) => s !== undefined)) {
        const positives = o.truth.map((t) => (t === options.positiveLabel ? 1 : 0));
        if (positives.some((v) => v === 1) && positives.some((v) => v === 0))
          result.rocAuc = rocAuc(positives, o.scores as number[]);
      }
      out.push(result);
    }
    return out.sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
  }
}
