/** `modelship explain`'s results as text: the importance table, the dependence ranges, each row's top contributions. */
import type { ExplanationReport } from '@modelship/core';
import { fmt, table } from './eval-text';

/** Contributions listed per explained row. */
const TOP = 5;

export function explanationText(r: ExplanationReport, data: string): string {
  const lines = [
    `${r.model.name} (version ${r.model.version}) on ${data}: ${r.samples.toLocaleString('en-US')} rows`,
  ];
  const imp = r.importance;
  if (imp !== undefined) {
    const order = imp.features
      .map((_, j) => j)
      .sort((a, b) => imp.importancesMean[b]! - imp.importancesMean[a]!);
    lines.push(
      '',
      `  permutation importance: drop in ${imp.metric} (${fmt(imp.baseline)} unshuffled) over ${imp.importances[0]?.length ?? 0} shuffles`,
      ...table([
        ['feature', 'mean', 'std'],
        ...order.map((j) => [imp.features[j]!, fmt(imp.importancesMean[j]), fmt(imp.importancesStd[j])]),
      ]),
    );
  }
  const pds = r.partialDependence ?? [];
  if (pds.length > 0) {
    lines.push(
      '',
      '  partial dependence: mean prediction over the grid',
      ...table([
        ['feature', 'grid', 'from', 'to', 'min', 'max'],
        ...pds.map((pd) => {
          const avg = pd.average ?? [];
          return [
            pd.feature,
            String(pd.grid.length),
            fmt(pd.grid[0]),
            fmt(pd.grid.at(-1)),
            fmt(Math.min(...avg)),
            fmt(Math.max(...avg)),
          ];
        }),
      ]),
    );
  }
  const s = r.shapley;
  if (s !== undefined) {
    lines.push(
      '',
      `  Shapley values (${s.method}, ${s.background} background rows, ${s.evaluations.toLocaleString('en-US')} model rows): base value ${fmt(s.baseValue)}`,
      ...table([
        ['row', 'prediction', `top ${TOP} contributions`],
        ...s.rows.map((row, i) => [
          String(row),
          fmt(s.predictions[i]),
          Object.entries(s.values[i]!)
            .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
            .slice(0, TOP)
            .map(([f, v]) => `${f} ${v >= 0 ? '+' : ''}${fmt(v)}`)
            .join(', '),
        ]),
      ]),
    );
    for (const note of s.notes) lines.push(`  note: ${note}`);
  }
  return lines.join('\n');
}
