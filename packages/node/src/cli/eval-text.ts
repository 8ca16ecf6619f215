/** `modelship eval`'s reports as text: aligned tables of metrics, classes and paired tests. */
import type { ComparisonReport, EvaluationReport } from '@modelship/core';

export function fmt(v: number | undefined): string {
  if (v === undefined) return '';
  if (Number.isNaN(v)) return 'NaN';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toFixed(4);
}

/** Lays out rows as aligned columns; columns whose cells look numeric are right-aligned. */
export function table(rows: string[][], indent = '  '): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const numeric = widths.map((_, i) => rows.slice(1).every((r) => /^[-+0-9.eNa…\s]*$/.test(r[i] ?? '')));
  return rows.map(
    (r) =>
      indent +
      r
        .map((c, i) => (numeric[i] && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
  );
}

export function reportText(r: EvaluationReport, data: string): string {
  const lines: string[] = [];
  const facts = [
    `${r.samples.toLocaleString('en-US')} rows`,
    r.task,
    `output '${r.output}' (${r.scores})`,
    r.positiveLabel === undefined ? '' : `positive class ${r.positiveLabel}`,
    r.threshold === undefined ? '' : `threshold ${r.threshold}`,
    r.average === undefined ? '' : `${r.average} average`,
  ].filter((f) => f !== '');
  lines.push(`${r.model.name} (version ${r.model.version}) on ${data}: ${facts.join(', ')}`, '');
  const level = r.bootstrap === null ? '' : `${Math.round(r.bootstrap.confidence * 100)}% interval`;
  lines.push(
    ...table([
      ['metric', 'value', level],
      ...Object.entries(r.metrics).map(([name, m]) => [
        name,
        fmt(m.value),
        m.low === undefined ? '' : `${fmt(m.low)} … ${fmt(m.high)}`,
      ]),
    ]),
  );
  if (r.residuals !== undefined) {
    const s = r.residuals;
    lines.push(
      '',
      `  residuals: mean ${fmt(s.mean)}, std ${fmt(s.std)}, min ${fmt(s.min)}, max ${fmt(s.max)}`,
    );
  }
  if (r.perClass !== undefined && r.perClass.length <= 30) {
    lines.push(
      '',
      ...table([
        ['class', 'precision', 'recall', 'f1', 'support'],
        ...r.perClass.map((c) => [
          String(c.label),
          fmt(c.precision),
          fmt(c.recall),
          fmt(c.f1),
          String(c.support),
        ]),
      ]),
    );
  }
  if (r.confusion !== undefined && r.confusion.labels.length <= 12) {
    lines.push('', '  confusion matrix (rows: true class, columns: predicted)');
    lines.push(
      ...table(
        [
          ['', ...r.confusion.labels.map(String)],
          ...r.confusion.matrix.map((row, i) => [String(r.confusion!.labels[i]), ...row.map(String)]),
        ],
        '    ',
      ),
    );
  }
  if (r.calibration !== undefined)
    lines.push(
      '',
      `  expected calibration error: ${fmt(r.calibration.expectedCalibrationError)} (${r.calibration.bins.length} bins)`,
    );
  for (const note of r.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}

export function comparisonText(c: ComparisonReport, data: string): string {
  const lines = [
    `${c.a.model.name} (A) vs ${c.b.model.name} (B) on ${data}: ${c.samples.toLocaleString('en-US')} rows, ${c.a.task}, α = ${c.alpha}`,
    '',
    ...table([
      ['metric', 'A', 'B', 'B − A', 'interval', 'p', 'test', 'better'],
      ...c.tests.map((t) => [
        t.metric,
        fmt(t.a),
        fmt(t.b),
        `${t.difference >= 0 ? '+' : ''}${fmt(t.difference)}`,
        t.low === undefined ? '' : `${fmt(t.low)} … ${fmt(t.high)}`,
        t.pValue < 1e-4 ? t.pValue.toExponential(1) : t.pValue.toFixed(4),
        t.method,
        t.better === 'neither' ? '–' : t.better === 'a' ? c.a.model.name : c.b.model.name,
      ]),
    ]),
  ];
  return lines.join('\n');
}
