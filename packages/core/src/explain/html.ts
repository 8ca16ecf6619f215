import { card, esc, num, PALETTE, page } from '../evaluate/html';
import type { PermutationImportance } from './importance';
import type { ExplanationJSON } from './json';
import type { PartialDependence } from './partial-dependence';

/** Shapley values of chosen rows of a data set, with the rows themselves. */
export interface RowExplanations extends ExplanationJSON {
  /** The index in the data set of each explained row. */
  rows: number[];
  /** The explained rows' feature values (what the waterfall labels each feature with). */
  data: Record<string, unknown>[];
  /** Rows in the background. */
  background: number;
}

/** What `modelship explain` computes: global and per-row explanations of one model on one data set. */
export interface ExplanationReport {
  model: { name: string; version: string };
  /** Rows of the data set. */
  samples: number;
  /** The output explained, and its column for outputs with several. */
  output?: string;
  class?: number;
  /** The seed of the shuffles, the background sample and the Shapley sampling. */
  seed?: number;
  importance?: PermutationImportance;
  partialDependence?: PartialDependence[];
  shapley?: RowExplanations;
}

const MAX_BARS = 20;
const MAX_STEPS = 12;
const UP = '#dc2626';
const DOWN = '#2563eb';

/**
 * Renders an explanation report as one self-contained page, like `renderReportHtml`: permutation
 * importance as bars with ±1 std whiskers, one partial-dependence plot per feature (on one shared
 * y scale, so effects compare by height), and a waterfall per explained row from the base value
 * through each feature's contribution to the prediction.
 *
 * @example
 * await writeFile('explain.html', renderExplanationHtml({ model, samples: rows.length, importance }));
 */
export function renderExplanationHtml(report: ExplanationReport, options: { title?: string } = {}): string {
  const title = options.title ?? `${report.model.name} · explanation`;
  return page(
    title,
    [
      header(report),
      importanceSection(report.importance),
      dependenceSection(report.partialDependence),
      waterfallSection(report.shapley),
    ],
    'Made by Modelship. Permutation importance and partial dependence follow scikit-learn; Shapley values use the interventional value function over the background, as shap.',
  );
}

function header(r: ExplanationReport): string {
  const s = r.shapley;
  const facts = [
    `${r.samples.toLocaleString('en-US')} rows`,
    r.output === undefined ? '' : `output <b>${esc(r.output)}</b>`,
    r.class === undefined ? '' : `class column ${r.class}`,
    s === undefined ? '' : `Shapley values by ${esc(s.method)}, ${s.background} background rows`,
    r.seed === undefined ? '' : `seed ${r.seed}`,
  ].filter((f) => f !== '');
  return `<header><h1>${esc(r.model.name)} <span class="muted">version ${esc(r.model.version)} · explanation</span></h1>
<div class="facts">${facts.map((f) => `<span class="fact">${f}</span>`).join('')}</div></header>`;
}

/** The round step (1, 2 or 5 times a power of ten) that cuts [lo, hi] into about `count` parts. */
function tickStep(lo: number, hi: number, count = 6): number {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
}

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const step = tickStep(lo, hi);
  const out: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

/**
 * A linear scale from [lo, hi] (padded when empty) to [a, b] pixels; `nice` widens the domain
 * to whole ticks, so the axis starts and ends on a labelled value.
 */
function scale(
  lo: number,
  hi: number,
  a: number,
  b: number,
  nice = false,
): { at: (v: number) => number; lo: number; hi: number } {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  if (nice) {
    const step = tickStep(lo, hi);
    lo = Math.floor(lo / step + 1e-9) * step;
    hi = Math.ceil(hi / step - 1e-9) * step;
  }
  return { at: (v) => a + ((v - lo) / (hi - lo)) * (b - a), lo, hi };
}

function tick(v: number): string {
  return esc(Number(v.toPrecision(6)).toString());
}

/** Vertical grid lines and their labels along the bottom of a horizontal chart. */
function xAxis(
  sx: ReturnType<typeof scale>,
  top: number,
  bottom: number,
  label: string,
  width: number,
): string {
  const marks = ticks(sx.lo, sx.hi)
    .map((t) => {
      const px = sx.at(t).toFixed(1);
      return `<line x1="${px}" y1="${top}" x2="${px}" y2="${bottom}" stroke="${t === 0 ? '#9ca3af' : '#f1f5f9'}"/><text x="${px}" y="${bottom + 14}" text-anchor="middle">${tick(t)}</text>`;
    })
    .join('');
  return `${marks}<text x="${(sx.at(sx.lo) + width) / 2}" y="${bottom + 30}" text-anchor="middle">${esc(label)}</text>`;
}

function importanceSection(imp: PermutationImportance | undefined): string {
  if (imp === undefined) return '';
  const order = imp.features
    .map((_, j) => j)
    .sort((a, b) => imp.importancesMean[b]! - imp.importancesMean[a]!);
  const shown = order.slice(0, MAX_BARS);
  const W = 720;
  const left = 150;
  const right = 70;
  const rowH = 22;
  const top = 6;
  const bottom = top + shown.length * rowH;
  const lo = Math.min(0, ...shown.map((j) => imp.importancesMean[j]! - imp.importancesStd[j]!));
  const hi = Math.max(0, ...shown.map((j) => imp.importancesMean[j]! + imp.importancesStd[j]!));
  const sx = scale(lo, hi, left, W - right);
  const bars = shown
    .map((j, i) => {
      const mean = imp.importancesMean[j]!;
      const std = imp.importancesStd[j]!;
      const cy = top + i * rowH + rowH / 2;
      const x0 = sx.at(Math.min(0, mean));
      const x1 = sx.at(Math.max(0, mean));
      const w0 = sx.at(mean - std).toFixed(1);
      const w1 = sx.at(mean + std).toFixed(1);
      return (
        `<g class="imp"><title>${esc(imp.features[j])}: ${num(mean)} ± ${num(std)} over ${imp.importances[j]!.length} shuffles</title>` +
        `<text x="${left - 8}" y="${cy + 4}" text-anchor="end">${esc(imp.features[j])}</text>` +
        `<rect x="${x0.toFixed(1)}" y="${cy - 7}" width="${Math.max(0.5, x1 - x0).toFixed(1)}" height="14" fill="${mean >= 0 ? PALETTE[0] : '#9ca3af'}" rx="2"/>` +
        `<path class="whisker" d="M${w0} ${cy}H${w1}M${w0} ${cy - 4}V${cy + 4}M${w1} ${cy - 4}V${cy + 4}" stroke="#111827" stroke-width="1.2" fill="none"/>` +
        `<text x="${W - right + 6}" y="${cy + 4}">${num(mean)}</text></g>`
      );
    })
    .join('');
  const more =
    order.length > shown.length
      ? ` The ${order.length - shown.length} least important features are left out (they are in the JSON).`
      : '';
  const svg = `<svg viewBox="0 0 ${W} ${bottom + 38}" role="img" aria-label="permutation importance">${xAxis(sx, top, bottom, `drop in ${imp.metric}`, W - right)}${bars}</svg>`;
  return card(
    'Permutation importance',
    svg,
    `How much ${imp.metric} (${num(imp.baseline)} on the unshuffled rows) gets worse when one feature's values are shuffled; bars are the mean over ${imp.importances[0]?.length ?? 0} shuffles, whiskers ±1 standard deviation.${more}`,
  );
}

function dependenceSection(pds: readonly PartialDependence[] | undefined): string {
  if (pds === undefined || pds.length === 0) return '';
  const averages = pds.flatMap((pd) => pd.average ?? []);
  // One y scale for every plot: a flat line then reads as a feature with little effect.
  const yLo = Math.min(...averages);
  const yHi = Math.max(...averages);
  const cards = pds.map((pd, i) =>
    card(`Partial dependence on ${pd.feature}`, dependenceChart(pd, yLo, yHi, PALETTE[i % PALETTE.length]!)),
  );
  return `<div class="grid pd">${cards.join('')}</div>`;
}

function dependenceChart(pd: PartialDependence, yLo: number, yHi: number, color: string): string {
  const W = 360;
  const H = 240;
  const m = { left: 52, right: 12, top: 10, bottom: 38 };
  const sx = scale(pd.grid[0]!, pd.grid[pd.grid.length - 1]!, m.left, W - m.right);
  const sy = scale(yLo, yHi, H - m.bottom, m.top, true);
  const grid =
    ticks(sx.lo, sx.hi)
      .map((t) => {
        const px = sx.at(t).toFixed(1);
        return `<line x1="${px}" y1="${m.top}" x2="${px}" y2="${H - m.bottom}" stroke="#f1f5f9"/><text x="${px}" y="${H - m.bottom + 14}" text-anchor="middle">${tick(t)}</text>`;
      })
      .join('') +
    ticks(sy.lo, sy.hi)
      .map((t) => {
        const py = sy.at(t).toFixed(1);
        return `<line x1="${m.left}" y1="${py}" x2="${W - m.right}" y2="${py}" stroke="#f1f5f9"/><text x="${m.left - 6}" y="${Number(py) + 4}" text-anchor="end">${tick(t)}</text>`;
      })
      .join('');
  const avg = pd.average ?? [];
  const pts = pd.grid.map((g, k) => `${sx.at(g).toFixed(1)},${sy.at(avg[k]!).toFixed(1)}`).join(' ');
  const line =
    pd.grid.length === 1
      ? `<circle cx="${sx.at(pd.grid[0]!).toFixed(1)}" cy="${sy.at(avg[0]!).toFixed(1)}" r="3" fill="${color}"/>`
      : `<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`;
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="partial dependence on ${esc(pd.feature)}">${grid}<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#cbd5e1"/>${line}
<text x="${(m.left + W - m.right) / 2}" y="${H - 6}" text-anchor="middle">${esc(pd.feature)}</text>
<text transform="translate(12 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">mean prediction</text></svg>`;
}

function waterfallSection(s: RowExplanations | undefined): string {
  if (s === undefined) return '';
  return s.rows
    .map((row, i) =>
      card(
        `Row ${row} · prediction ${num(s.predictions[i]!)}`,
        waterfall(s, i),
        `From the base value (mean prediction over ${s.background} background rows) each feature's Shapley value moves the output to this row's prediction; red raises it, blue lowers it. Labels show the row's value of the feature.`,
      ),
    )
    .join('');
}

function value(v: unknown): string {
  if (typeof v === 'number') return Number(v.toPrecision(4)).toString();
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 16 ? `${s.slice(0, 15)}…` : s;
}

function waterfall(s: RowExplanations, i: number): string {
  const entries = Object.entries(s.values[i]!).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  const steps: { label: string; value: number }[] = entries
    .slice(0, entries.length > MAX_STEPS ? MAX_STEPS - 1 : MAX_STEPS)
    .map(([f, v]) => ({ label: `${f} = ${value(s.data[i]?.[f])}`, value: v }));
  const rest = entries.slice(steps.length);
  if (rest.length > 0)
    steps.push({ label: `${rest.length} other features`, value: rest.reduce((a, [, v]) => a + v, 0) });
  const base = s.baseValue;
  const prediction = s.predictions[i]!;
  const W = 720;
  const left = 170;
  const right = 70;
  const rowH = 24;
  const top = 6;
  const n = steps.length + 2;
  const bottom = top + n * rowH;
  let at = base;
  const ends = [base, prediction];
  for (const st of steps) {
    at += st.value;
    ends.push(at);
  }
  const sx = scale(Math.min(...ends), Math.max(...ends), left, W - right);
  const label = (k: number, text: string, bold = false): string =>
    `<text x="${left - 8}" y="${top + k * rowH + rowH / 2 + 4}" text-anchor="end"${bold ? ' font-weight="600"' : ''}>${esc(text)}</text>`;
  const marker = (k: number, v: number, name: string): string => {
    const cy = top + k * rowH + rowH / 2;
    return `<g class="${name}">${label(k, name === 'base' ? 'base value E[f(x)]' : 'prediction f(x)', true)}<line x1="${sx.at(v).toFixed(1)}" y1="${cy - 9}" x2="${sx.at(v).toFixed(1)}" y2="${cy + 9}" stroke="#111827" stroke-width="2"/><text x="${W - right + 6}" y="${cy + 4}" font-weight="600">${num(v)}</text></g>`;
  };
  let from = base;
  const bars = steps
    .map((st, k) => {
      const to = from + st.value;
      const cy = top + (k + 1) * rowH + rowH / 2;
      const x0 = sx.at(Math.min(from, to));
      const x1 = sx.at(Math.max(from, to));
      const color = st.value >= 0 ? UP : DOWN;
      const connector = `<line x1="${sx.at(from).toFixed(1)}" y1="${cy - rowH + 8}" x2="${sx.at(from).toFixed(1)}" y2="${cy - 8}" stroke="#9ca3af" stroke-dasharray="2 2"/>`;
      from = to;
      return `<g class="step">${connector}${label(k + 1, st.label)}<rect x="${x0.toFixed(1)}" y="${cy - 8}" width="${Math.max(0.5, x1 - x0).toFixed(1)}" height="16" fill="${color}" rx="2"/><text x="${W - right + 6}" y="${cy + 4}" style="fill:${color}">${st.value >= 0 ? '+' : ''}${num(st.value)}</text></g>`;
    })
    .join('');
  const last = `<line x1="${sx.at(from).toFixed(1)}" y1="${bottom - rowH - 2}" x2="${sx.at(from).toFixed(1)}" y2="${bottom - rowH + 4}" stroke="#9ca3af" stroke-dasharray="2 2"/>`;
  return `<svg viewBox="0 0 ${W} ${bottom + 38}" role="img" aria-label="Shapley values of row ${s.rows[i]}">${xAxis(sx, top, bottom, 'model output', W - right)}${marker(0, base, 'base')}${bars}${last}${marker(n - 1, prediction, 'prediction')}</svg>`;
}
