/**
 * `GET /dashboard`: one self-contained page (no external files) that polls `/v2/monitor` and
 * shows the service's health at a glance: a status line, per-version tiles with throughput,
 * error rate and latency, trend charts of the last minutes (from the Monitor's history, so a page
 * opened now shows the recent past), the traffic split, firing alerts and per-feature drift.
 */

export function dashboardHtml(title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[<&]/g, '')} · dashboard</title>
<style>
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--ok:#16a34a;--warn:#d97706;--bad:#dc2626;--accent:#2563eb}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;align-items:center;gap:14px;padding:16px 24px;background:var(--card);border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0}#status{padding:4px 12px;border-radius:999px;font-weight:600;font-size:13px}
.ok{background:#dcfce7;color:#166534}.warn{background:#fef3c7;color:#92400e}.bad{background:#fee2e2;color:#991b1b}
#updated{margin-left:auto;color:var(--muted);font-size:12px}main{padding:20px 24px;max-width:1280px;margin:0 auto}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin:22px 0 10px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(290px,1fr));gap:14px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.tile h3{margin:0 0 2px;font-size:15px}.tile .sub{color:var(--muted);font-size:12px;margin-bottom:10px}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:6px}.kpi b{display:block;font-size:18px;font-variant-numeric:tabular-nums}.kpi span{color:var(--muted);font-size:11px}
svg{display:block;width:100%;height:auto;margin-top:8px}.ax{font-size:9px;fill:#64748b;font-variant-numeric:tabular-nums}.legend{font-size:11px;color:var(--muted)}
.split{height:10px;border-radius:5px;overflow:hidden;display:flex;background:var(--line);margin-top:8px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden}
th,td{text-align:left;padding:7px 12px;border-bottom:1px solid var(--line);font-size:13px}th{color:var(--muted);font-weight:600;font-size:11px;text-transform:uppercase}
td.num{text-align:right;font-variant-numeric:tabular-nums}.bar{height:8px;background:#dbeafe;border-radius:4px;position:relative;min-width:120px}
.bar i{position:absolute;left:0;top:0;bottom:0;border-radius:4px;background:var(--accent)}.bar i.d{background:var(--bad)}
.empty{color:var(--muted);padding:12px 0}.alert{background:#fff1f2;border:1px solid #fecdd3;color:#9f1239;border-radius:8px;padding:8px 12px;margin-bottom:6px}
</style></head><body>
<header><h1>${title.replace(/[<&]/g, '')}</h1><span id="status" class="ok">loading…</span><span id="updated"></span></header>
<main>
<div id="alerts"></div>
<h2>Versions (last minute)</h2><div id="tiles" class="tiles"></div>
<h2>Drift of the inputs</h2><div id="drift"></div>
</main>
<script>
const fmt = (v, d = 1) => v === undefined || v === null ? '–' : Number(v).toFixed(d);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
let history = [];
// A round axis maximum (1, 2 or 5 times a power of ten) at or above the largest value.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v);
}
const axisNum = (v) => v >= 1000 ? (v / 1000).toFixed(v >= 10000 ? 0 : 1) + 'k' : v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1).replace(/\\.0$/, '') : String(Number(v.toPrecision(2)));
function ago(ms) {
  const m = Math.round(ms / 60000);
  return ms < 60000 ? '−' + Math.round(ms / 1000) + ' s' : '−' + m + ' min';
}
// A line chart with a y axis (0, half, max, in the series' unit) and a time axis (oldest … now).
function chart(points, key, color, unit, intervalMs, extra) {
  const W = 300, H = 96, L = 34, B = 16, T = 6, R = 6;
  const vals = points.map((p) => p[key]);
  const max = niceMax(Math.max(0, ...vals.filter((v) => typeof v === 'number')));
  const x = (i) => L + (points.length < 2 ? 0 : i * (W - L - R) / (points.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  let svg = '<svg viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="' + esc(unit) + ' over time">';
  for (const f of [0, 0.5, 1]) {
    svg += '<line x1="' + L + '" x2="' + (W - R) + '" y1="' + y(max * f).toFixed(1) + '" y2="' + y(max * f).toFixed(1) + '" stroke="#e2e8f0"/>';
    svg += '<text x="' + (L - 4) + '" y="' + (y(max * f) + 3).toFixed(1) + '" text-anchor="end" class="ax">' + axisNum(max * f) + '</text>';
  }
  const span = (points.length - 1) * intervalMs;
  svg += '<text x="' + L + '" y="' + (H - 3) + '" class="ax">' + (points.length > 1 ? ago(span) : '') + '</text>';
  svg += '<text x="' + ((L + W - R) / 2).toFixed(1) + '" y="' + (H - 3) + '" text-anchor="middle" class="ax">' + (points.length > 1 ? ago(span / 2) : '') + '</text>';
  svg += '<text x="' + (W - R) + '" y="' + (H - 3) + '" text-anchor="end" class="ax">now</text>';
  if (extra) svg += extra(x, y);
  let d = '';
  vals.forEach((v, i) => {
    if (typeof v !== 'number') return;
    const prev = i > 0 && typeof vals[i - 1] === 'number';
    d += (prev ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1);
    // A lone point (traffic in one interval only) is a dot, not an invisible line.
    if (!prev && typeof vals[i + 1] !== 'number') svg += '<circle cx="' + x(i).toFixed(1) + '" cy="' + y(v).toFixed(1) + '" r="2" fill="' + color + '"/>';
  });
  svg += '<path d="' + d + '" fill="none" stroke="' + color + '" stroke-width="1.6"/>';
  return svg + '<text x="' + (L + 4) + '" y="' + (T + 9) + '" class="ax" style="fill:' + color + '">' + esc(unit) + '</text></svg>';
}
function trends(h) {
  if (!h || h.points.length === 0) return '';
  const errorBars = (x, y) => h.points.map((p, i) => p.errors > 0 ? '<rect x="' + (x(i) - 1).toFixed(1) + '" y="' + y(p.errors * 1000 / h.intervalMs).toFixed(1) + '" width="2" height="' + (y(0) - y(p.errors * 1000 / h.intervalMs)).toFixed(1) + '" fill="#dc2626"/>' : '').join('');
  return chart(h.points, 'throughput', '#2563eb', 'req/s (errors red)', h.intervalMs, errorBars) +
    chart(h.points, 'p99LatencyMs', '#f97316', 'p99 latency, ms', h.intervalMs);
}
function screenKpis(q, est) {
  if (!q && !est) return '';
  const warn = (x, limit) => x > limit ? ' style="color:var(--bad)"' : '';
  let out = '<div class="kpis" style="margin-top:6px">';
  if (q && q.records > 0) out += '<div class="kpi"><b' + warn(q.qualityViolationRate, 0.05) + '>' + fmt(q.qualityViolationRate * 100) + '%</b><span>bad records</span></div>';
  if (q && q.scored > 0) out += '<div class="kpi"><b' + warn(q.outlierRate, 0.05) + '>' + fmt(q.outlierRate * 100) + '%</b><span>outliers</span></div>' +
    '<div class="kpi"><b>' + fmt(q.outlierScore.p99, 3) + '</b><span>p99 outlier score</span></div>';
  if (est) out += '<div class="kpi"><b' + (est.accuracy.alert ? ' style="color:var(--bad)"' : '') + '>' + fmt(est.accuracy.value * 100) + '%</b><span>est. accuracy ±' + fmt(3 * est.accuracy.samplingError * 100) + '</span></div>';
  out += '</div>';
  if (q && q.totals.findings.length > 0) {
    const top = q.totals.findings.slice().sort((a, b) => b.count - a.count).slice(0, 4);
    out += '<div class="sub" style="margin-top:4px">' + top.map((f) => esc(f.feature) + ' ' + esc(f.rule.replace(/_/g, ' ')) + ' ×' + f.count).join(' · ') + '</div>';
  }
  return out;
}
function render(state) {
  const series = state.series || [];
  const alerts = state.alerts || [];
  const deployments = state.deployments || [];
  const drifted = Object.entries(state.drift || {}).filter(([, r]) => r.datasetDrift);
  const errorRate = series.reduce((a, s) => a + s.errors, 0) / Math.max(1, series.reduce((a, s) => a + s.requests, 0));
  const status = document.getElementById('status');
  const bad = alerts.length > 0 || errorRate > 0.05;
  const unusual = [...new Set(series.filter((s) => s.screen && (s.screen.qualityViolationRate > 0.05 || s.screen.outlierRate > 0.05)).map((s) => s.model))];
  status.className = bad ? 'bad' : drifted.length || unusual.length ? 'warn' : 'ok';
  status.textContent = bad ? alerts.length + ' alert' + (alerts.length === 1 ? '' : 's') + ' firing' : drifted.length ? 'inputs drifting: ' + drifted.map(([m]) => m).join(', ') : unusual.length ? 'unusual inputs: ' + unusual.join(', ') : 'healthy';
  document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  document.getElementById('alerts').innerHTML = alerts.map((a) => '<div class="alert">⚠ ' + esc(a.message) + '</div>').join('');
  const tiles = series.map((s) => {
    const h = history.find((x) => x.model === s.model && x.version === s.version);
    const dep = deployments.find((d) => d.name === s.model);
    const v = dep && dep.versions.find((x) => x.version === s.version);
    const share = v ? Math.round(v.traffic * 100) + '% of traffic' + (dep.primary === s.version ? ' · primary' : '') : 'reported by clients';
    const err = s.errorRate > 0.05 ? ' style="color:var(--bad)"' : '';
    return '<div class="tile"><h3>' + esc(s.model) + ' <span style="color:var(--muted);font-weight:400">v' + esc(s.version) + '</span></h3>' +
      '<div class="sub">' + share + '</div><div class="kpis">' +
      '<div class="kpi"><b>' + fmt(s.throughput) + '</b><span>req/s</span></div>' +
      '<div class="kpi"><b' + err + '>' + fmt(s.errorRate * 100) + '%</b><span>errors</span></div>' +
      '<div class="kpi"><b>' + fmt(s.latencyMs.p50, 2) + '</b><span>p50 ms</span></div>' +
      '<div class="kpi"><b>' + fmt(s.latencyMs.p99, 2) + '</b><span>p99 ms</span></div></div>' +
      screenKpis(s.screen, (state.estimated || {})[s.model]) +
      trends(h) + '</div>';
  });
  for (const d of deployments) {
    if (d.versions.length > 1) {
      const colors = ['#2563eb', '#f97316', '#16a34a', '#9333ea'];
      tiles.push('<div class="tile"><h3>' + esc(d.name) + ' traffic split</h3><div class="sub">policy ' + esc(d.policy.type) + '</div><div class="split">' +
        d.versions.map((v, i) => '<div title="v' + esc(v.version) + '" style="width:' + (v.traffic * 100) + '%;background:' + colors[i % 4] + '"></div>').join('') + '</div>' +
        '<div class="legend" style="margin-top:6px">' + d.versions.map((v, i) => '<span style="color:' + colors[i % 4] + '">■</span> v' + esc(v.version) + ' ' + Math.round(v.traffic * 100) + '%').join(' &nbsp; ') + '</div></div>');
    }
  }
  document.getElementById('tiles').innerHTML = tiles.join('') || '<div class="empty">No traffic yet.</div>';
  const drift = Object.entries(state.drift || {});
  document.getElementById('drift').innerHTML = drift.length === 0 ? '<div class="empty">No model is watched for drift (Monitor.watchDrift).</div>' :
    drift.map(([model, r]) => '<table><thead><tr><th>' + esc(model) + ' · ' + r.currentRows + ' recent rows · ' + r.driftedFeatures + ' of ' + r.features.length + ' features drifted</th><th>test</th><th class="num">score</th><th>vs threshold</th></tr></thead><tbody>' +
      r.features.map((f) => {
        const p = ['ks', 'chisquare', 'z'].includes(f.method);
        const severity = p ? Math.min(1, f.threshold / Math.max(f.score, 1e-12) / 10) : Math.min(1, f.score / f.threshold / 2);
        return '<tr><td>' + esc(f.feature) + (f.drifted ? ' <b style="color:var(--bad)">drifted</b>' : '') + '</td><td>' + f.method + '</td><td class="num">' + (f.score < 1e-3 ? f.score.toExponential(1) : f.score.toFixed(3)) +
          '</td><td><div class="bar"><i class="' + (f.drifted ? 'd' : '') + '" style="width:' + (severity * 100).toFixed(0) + '%"></i></div></td></tr>';
      }).join('') + '</tbody></table>').join('<div style="height:12px"></div>');
}
async function poll() {
  try {
    const base = location.pathname.replace(/dashboard$/, '');
    const [res, hist] = await Promise.all(['v2/monitor', 'v2/monitor/history'].map((p) => fetch(base + p, { credentials: 'same-origin' })));
    if (hist.ok) history = (await hist.json()).history;
    if (res.ok) render(await res.json());
    else document.getElementById('status').textContent = 'monitor answered ' + res.status;
  } catch (e) {
    document.getElementById('status').textContent = 'server unreachable';
    document.getElementById('status').className = 'bad';
  }
}
poll();
setInterval(poll, 2000);
</script></body></html>
`;
}
