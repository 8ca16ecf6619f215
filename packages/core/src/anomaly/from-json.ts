import { invalidArgument } from '../errors';
import type { OutlierDetector } from './detector';
import { IsolationForest } from './isolation-forest';
import { MahalanobisDetector } from './mahalanobis';

/** Reads back any detector's JSON (`detector.toJSON()`), by its `kind`. */
export function detectorFromJSON(json: unknown): OutlierDetector {
  const kind = (json as { kind?: unknown } | null)?.kind;
  if (kind === 'mahalanobis') return MahalanobisDetector.fromJSON(json);
  if (kind === 'isolation-forest') return IsolationForest.fromJSON(json);
  throw invalidArgument('detectorFromJSON', "kind must be 'mahalanobis' or 'isolation-forest'", kind);
}
