/**
 * How the matchers write a failure: numbers, shares, aligned tables and the model's name; and
 * the checks every model matcher starts with.
 */
import type { Model } from '../model/model';

/** What a Vitest matcher returns. */
export type Result = { pass: boolean; message: () => string; actual?: unknown; expected?: unknown };

export function fmt(v: number): string {
  return Number.isFinite(v)
    ? Math.abs(v) >= 1e-3 || v === 0
      ? v.toFixed(4)
      : v.toExponential(2)
    : String(v);
}

export function pct(v: number): string {
  return `${(v * 100).toFixed(v < 0.001 && v > 0 ? 3 : 1)}%`;
}

export function modelName(model: Model): string {
  return `model '${model.name}' (version ${model.version})`;
}

export function checkModel(model: unknown, matcher: string): asserts model is Model {
  if (typeof model !== 'object' || model === null || typeof (model as Model).predict !== 'function')
    throw new TypeError(`${matcher}: expect() must be given a Model (something with signature and predict)`);
}

export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
}
