import type { Label } from '../metrics/labels';
import type { ComparisonReport } from './compare';
import type { CalibrationBin, EvaluationReport, MetricName } from './types';

/**
 * Renders an evaluation report as one self-contained HTML page: no scripts, no external
 * files, charts drawn as inline SVG, so it opens anywhere, attaches to a CI run and prints.
 *
 * @example
 * await writeFile('report.html', renderReportHtml(await evaluate(model, rows)));
 */
export function renderReportHtml(report: EvaluationReport, options: { title?: string } = {}): string {
  const title = options.title ?? `${report.model.name} · evaluation`;
  return page(title, [
    header(report),
    metricsSection(report),
    charts(report),
    perClassSection(report),
    notesSection(report),
  ]);
}

/** Renders a model comparison: the paired tests first, then both models' reports. */
export function renderComparisonHtml(comparison: ComparisonReport, options: { title?: string } = {}): string {
  const { a, b } = comparison;
  const title = options.title ?? `${a.model.name} vs ${b.model.name} · comparison`;
  const rows = comparison.tests.map(
    (
      t,
    ) => `<tr><td>${esc(LABELS[t.metric])}</td><td class="num">${num(t.a)}</td><td class="num">${num(t.b)}</td>
<td class="num ${t.better === 'neither' ? '' : t.better === 'b' ? 'good' : 'bad'}">${t.difference >= 0 ? '+' : ''}${num(t.difference)}</td>
<td class="num">${t.low === undefined ? '–' : `${num(t.low)} … ${num(t.high!)}`}</td><td class="num">${pval(t.pValue)}</td>
<td>${esc(t.method)}</td><td>${t.better === 'neither' ? 'no difference' : `<b>${esc(t.better === 'a' ? a.model.name : b.model.name)}</b>`}</td></tr>`,
  );
  const tests = `<section><h2>Paired tests</h2><p class="muted">${comparison.samples} rows, both models on the same rows; verdicts at α = ${comparison.alpha}. A: ${esc(a.model.name)} ${esc(a.model.version)}, B: ${esc(b.model.name)} ${esc(b.model.version)}.</p>
<table><thead><tr><th>metric</th><th class="num">A</th><th class="num">B</th><th class="num">B − A</th><th class="num">interval of B − A</th><th class="num">p</th><th>test</th><th>better</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
  return page(title, [
    `<header><h1>${esc(a.model.name)} <span class="muted">vs</span> ${esc(b.model.name)}</h1></header>`,
    tests,
    `<h2 class="part">A · ${esc(a.model.name)}</h2>`,
    metricsSection(a),
    charts(a),
    `<h2 class="part">B · ${esc(b.model.name)}</h2>`,
    metricsSection(b),
    charts(b),
  ]);
}

const LABELS: Record<MetricName, string> = {
  accuracy: 'Accuracy',
  balancedAccuracy: 'Balanced accuracy',
  precision: 'Precision',
  recall: 'Recall',
  f1: 'F1',
  matthewsCorrcoef: 'Matthews corr. coef.',
  cohenKappa: "Cohen's kappa",
  rocAuc: 'ROC AUC',
  averagePrecision: 'Average precision',
  logLoss: 'Log loss',
  brierScore: 'Brier score',
  meanSquaredError: 'Mean squared error',
  meanAbsoluteError: 'Mean absolute error',
  r2Score: 'R²',
};

const BOUNDED: ReadonlySet<MetricName> = new Set<MetricName>([
  'accuracy',
  'balancedAccuracy',
  'precision',
  'recall',
  'f1',
  'rocAuc',
  'averagePrecision',
  'brierScore',
]);

export const PALETTE = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#ca8a04',
  '#db2777',
  '#4b5563',
  '#65a30d',
];

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function num(v: number, digits = 4): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(2) : v.toFixed(digits);
}

function pval(p: number): string {
  return Number.isNaN(p) ? '–' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

function label(l: Label): string {
  return esc(String(l));
}

const FOOTER =
  "Made by Modelship. Point values are scikit-learn's definitions; intervals are percentile bootstrap intervals over resampled rows.";

/** One self-contained page: the shared stylesheet, the sections, a footer line. */
export function page(title: string, sections: string[], footer = FOOTER): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f9fafb;--card:#fff;--accent:#2563eb}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 48px}h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 12px}
h2.part{margin:32px 0 12px;font-size:18px}.muted{color:var(--muted)}header{margin-bottom:20px}
.facts{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px}.fact{background:var(--card);border:1px solid var(--line);border-radius:999px;padding:2px 10px;font-size:12px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin-bottom:18px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line)}th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.good{color:#15803d;font-weight:600}.bad{color:#b91c1c;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:18px;margin-bottom:18px}.grid section{margin:0}
svg{display:block;width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#374151}.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px;margin-top:6px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}.bar{position:relative;height:8px;background:#eef2ff;border-radius:4px;min-width:120px}
.bar span{position:absolute;top:0;height:8px;background:#93c5fd;border-radius:4px}.bar b{position:absolute;top:-3px;width:2px;height:14px;background:var(--accent)}
ul{margin:0;padding-left:18px}
</style></head><body><main>
${sections.filter((s) => s !== '').join('\n')}
<p class="muted">${esc(footer)}</p>
</main></body></html>
`;
}

function header(r: EvaluationReport): string {
  const facts = [
    `${r.samples.toLocaleString('en-US')} rows`,
    `${r.task}`,
    `output <b>${esc(r.output)}</b> read as ${esc(r.scores)}`,
    r.classes === undefined ? '' : `classes ${r.classes.map(label).join(', ')}`,
    r.positiveLabel === undefined ? '' : `positive class ${label(r.positiveLabel)}`,
    r.threshold === undefined ? '' : `threshold ${r.threshold}`,
    r.average === undefined ? '' : `${r.average} average`,
    r.bootstrap === null
      ? 'no intervals'
      : `${Math.round(r.bootstrap.confidence * 100)}% intervals, ${r.bootstrap.resamples} resamples, seed ${r.bootstrap.seed}`,
  ].filter((f) => f !== '');
  return `<header><h1>${esc(r.model.name)} <span class="muted">version ${esc(r.model.version)}</span></h1>
<div class="facts">${facts.map((f) => `<span class="fact">${f}</span>`).join('')}</div></header>`;
}

function metricsSection(r: EvaluationReport): string {
  const rows = (
    Object.entries(r.metrics) as [MetricName, { value: number; low?: number; high?: number }][]
  ).map(([name, m]) => {
    const ci = m.low === undefined ? '–' : `${num(m.low)} … ${num(m.high!)}`;
    const bar =
      BOUNDED.has(name) && m.low !== undefined
        ? `<div class="bar" title="${ci}"><span style="left:${pct(m.low)};width:${pct(m.high! - m.low)}"></span><b style="left:${pct(m.value)}"></b></div>`
        : '';
    return `<tr><td>${esc(LABELS[name])}</td><td class="num"><b>${num(m.value)}</b></td><td class="num">${ci}</td><td>${bar}</td></tr>`;
  });
  const level = r.bootstrap === null ? '' : `${Math.round(r.bootstrap.confidence * 100)}% interval`;
  return `<section><h2>Metrics</h2><table><thead><tr><th>metric</th><th class="num">value</th><th class="num">${level}</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>${
    r.residuals === undefined
      ? ''
      : `<p class="muted">Residuals (true − predicted): mean ${num(r.residuals.mean)}, std ${num(r.residuals.std)}, min ${num(r.residuals.min)}, max ${num(r.residuals.max)}.</p>`
  }</section>`;
}

function pct(v: number): string {
  return `${(Math.min(1, Math.max(0, v)) * 100).toFixed(2)}%`;
}

function perClassSection(r: EvaluationReport): string {
  if (r.perClass === undefined) return '';
  const rows = r.perClass.map(
    (c) =>
      `<tr><td>${label(c.label)}</td><td class="num">${num(c.precision)}</td><td class="num">${num(c.recall)}</td><td class="num">${num(c.f1)}</td><td class="num">${c.support}</td></tr>`,
  );
  return `<section><h2>Per class</h2><table><thead><tr><th>class</th><th class="num">precision</th><th class="num">recall</th><th class="num">F1</th><th class="num">support</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function notesSection(r: EvaluationReport): string {
  if (r.notes.length === 0) return '';
  return `<section><h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>`;
}

function charts(r: EvaluationReport): string {
  const cards: string[] = [];
  if (r.roc !== undefined && r.roc.length > 0) {
    cards.push(
      card(
        'ROC curve',
        lineChart(
          r.roc.map((c, i) => ({
            name: `${c.label} (AUC ${num(c.auc, 3)})`,
            xs: c.fpr,
            ys: c.tpr,
            color: PALETTE[i % PALETTE.length]!,
          })),
          'false positive rate',
          'true positive rate',
          'diagonal',
        ),
        r.roc.length > 1 ? 'one class against the rest' : undefined,
      ),
    );
  }
  if (r.pr !== undefined && r.pr.length > 0) {
    cards.push(
      card(
        'Precision–recall curve',
        lineChart(
          r.pr.map((c, i) => ({
            name: `${c.label} (AP ${num(c.averagePrecision, 3)})`,
            xs: c.recall,
            ys: c.precision,
            color: PALETTE[i % PALETTE.length]!,
            step: true,
          })),
          'recall',
          'precision',
        ),
      ),
    );
  }
  if (r.confusion !== undefined)
    cards.push(
      card(
        'Confusion matrix',
        heatmap(r.confusion.labels, r.confusion.matrix),
        'rows: true class · columns: predicted · shade: share of the true class',
      ),
    );
  if (r.calibration !== undefined) {
    const c = r.calibration;
    cards.push(
      card(
        'Calibration',
        reliability(c.bins),
        `${c.of === 'positive' ? 'probability of the positive class' : 'top-class probability against accuracy'} · expected calibration error ${num(c.expectedCalibrationError)}`,
      ),
    );
  }
  return cards.length === 0 ? '' : `<div class="grid">${cards.join('')}</div>`;
}

export function card(title: string, body: string, caption?: string): string {
  return `<section><h2>${esc(title)}</h2>${body}${caption === undefined ? '' : `<p class="muted" style="margin:6px 0 0;font-size:12px">${esc(caption)}</p>`}</section>`;
}

const W = 360;
const H = 300;
const M = { left: 44, right: 12, top: 10, bottom: 38 };
const x = (v: number): number => M.left + v * (W - M.left - M.right);
const y = (v: number): number => H - M.bottom - v * (H - M.top - M.bottom);

function axes(xLabel: string, yLabel: string): string {
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${x(t)}" y1="${y(0)}" x2="${x(t)}" y2="${y(1)}" stroke="#f1f5f9"/><line x1="${x(0)}" y1="${y(t)}" x2="${x(1)}" y2="${y(t)}" stroke="#f1f5f9"/>` +
        `<text x="${x(t)}" y="${y(0) + 14}" text-anchor="middle">${t}</text><text x="${x(0) - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`,
    )
    .join('');
  return `${grid}<rect x="${x(0)}" y="${y(1)}" width="${x(1) - x(0)}" height="${y(0) - y(1)}" fill="none" stroke="#cbd5e1"/>
<text x="${(x(0) + x(1)) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>
<text transform="translate(12 ${(y(0) + y(1)) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`;
}

interface Series {
  name: string;
  xs: readonly number[];
  ys: readonly number[];
  color: string;
  step?: boolean;
}

function lineChart(series: Series[], xLabel: string, yLabel: string, reference?: 'diagonal'): string {
  const paths = series.map((s) => {
    const pts: string[] = [];
    for (let i = 0; i < s.xs.length; i++) {
      const px = s.xs[i]!;
      const py = s.ys[i]!;
      if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
      if (s.step && pts.length > 0) pts.push(`${x(px).toFixed(1)},${y(s.ys[i - 1] ?? py).toFixed(1)}`);
      pts.push(`${x(px).toFixed(1)},${y(py).toFixed(1)}`);
    }
    return `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"/>`;
  });
  const diagonal =
    reference === 'diagonal'
      ? `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#9ca3af" stroke-dasharray="4 4"/>`
      : '';
  return `<svg viewBox="0 0 ${W} ${H}" role="img">${axes(xLabel, yLabel)}${diagonal}${paths.join('')}</svg>${legend(series)}`;
}

function legend(series: { name: string; color: string }[]): string {
  return `<div class="legend">${series.map((s) => `<span><i style="background:${s.color}"></i>${esc(s.name)}</span>`).join('')}</div>`;
}

function heatmap(labels: readonly Label[], matrix: readonly (readonly number[])[]): string {
  const k = labels.length;
  const size = Math.min(400, Math.max(280, k * 40));
  const cell = (size - 50) / k;
  const left = 56;
  const top = 10;
  const cells: string[] = [];
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((v, j) => {
      const share = total === 0 ? 0 : v / total;
      const fill =
        i === j
          ? `rgba(37,99,235,${(0.08 + 0.85 * share).toFixed(3)})`
          : `rgba(220,38,38,${(share === 0 ? 0 : 0.08 + 0.85 * share).toFixed(3)})`;
      cells.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff"/>` +
          (k <= 15
            ? `<text x="${left + (j + 0.5) * cell}" y="${top + (i + 0.5) * cell + 4}" text-anchor="middle" style="fill:${share > 0.55 ? '#fff' : v === 0 ? '#cbd5e1' : '#111827'}">${v}</text>`
            : ''),
      );
    });
  });
  const axisLabels = labels
    .map(
      (l, i) =>
        `<text x="${left - 6}" y="${top + (i + 0.5) * cell + 4}" text-anchor="end">${label(l)}</text><text x="${left + (i + 0.5) * cell}" y="${top + k * cell + 14}" text-anchor="middle">${label(l)}</text>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${size + 10} ${size + 20}" role="img" style="max-width:${size + 40}px">${cells.join('')}${axisLabels}
<text x="${left + (k * cell) / 2}" y="${top + k * cell + 30}" text-anchor="middle">predicted</text>
<text transform="translate(12 ${top + (k * cell) / 2}) rotate(-90)" text-anchor="middle">true</text></svg>`;
}

function reliability(bins: readonly CalibrationBin[]): string {
  const max = Math.max(1, ...bins.map((b) => b.count));
  const bars = bins
    .map((b) => {
      const h = (b.count / max) * 0.25;
      return `<rect x="${x(b.lower) + 1}" y="${y(h)}" width="${x(b.upper) - x(b.lower) - 2}" height="${y(0) - y(h)}" fill="#e5e7eb"><title>${b.count} rows</title></rect>`;
    })
    .join('');
  const pts = bins.filter((b) => b.count > 0);
  const line = `<polyline points="${pts.map((b) => `${x(b.meanPredicted).toFixed(1)},${y(b.observed).toFixed(1)}`).join(' ')}" fill="none" stroke="${PALETTE[0]}" stroke-width="2"/>`;
  const dots = pts
    .map(
      (b) =>
        `<circle cx="${x(b.meanPredicted).toFixed(1)}" cy="${y(b.observed).toFixed(1)}" r="3.5" fill="${PALETTE[0]}"><title>${b.count} rows: predicted ${num(b.meanPredicted, 3)}, observed ${num(b.observed, 3)}</title></circle>`,
    )
    .join('');
  const diagonal = `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#9ca3af" stroke-dasharray="4 4"/>`;
  return `<svg viewBox="0 0 ${W} ${H}" role="img">${axes('mean predicted probability', 'observed frequency')}${bars}${diagonal}${line}${dots}</svg>${legend(
    [
      { name: 'model', color: PALETTE[0]! },
      { name: 'rows per bin', color: '#e5e7eb' },
    ],
  )}`;
}
