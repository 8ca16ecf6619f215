/**
 * Prometheus metrics through `prom-client`, per model and version, named after Triton's
 * (`nv_inference_request_success`, `nv_inference_queue_duration_us`, …) where one fits, in
 * seconds as Prometheus prefers.
 */
import type { Deployer, Monitor, PredictionEvent } from '@modelship/core';
import type { HandlerResponse, RepositoryControl, ServeMetrics } from '@modelship/core/serve';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type CounterChild, CounterFamily, type HistogramChild, HistogramFamily } from './metric-families';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface VersionChildren {
  /** The failure counter's `reason` labels used for this version, to remove them with it. */
  reasons: Set<string>;
  success: CounterChild;
  request: HistogramChild;
  queue: HistogramChild;
  compute: HistogramChild;
  batch: HistogramChild;
}

interface HttpChildren {
  count: CounterChild;
  seconds: HistogramChild;
}

/** Values under two keys, found without building a key string per request. */
class TwoKeyMap<A, B, V> {
  private readonly maps = new Map<A, Map<B, V>>();

  get(a: A, b: B): V | undefined {
    return this.maps.get(a)?.get(b);
  }

  delete(a: A, b: B): void {
    const inner = this.maps.get(a);
    inner?.delete(b);
    if (inner?.size === 0) this.maps.delete(a);
  }

  /** Stores `v` and returns it. */
  set(a: A, b: B, v: V): V {
    let inner = this.maps.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.maps.set(a, inner);
    }
    inner.set(b, v);
    return v;
  }
}

export class ServerMetrics implements ServeMetrics {
  readonly registry = new Registry();
  private readonly success: CounterFamily;
  private readonly failure: Counter<'model' | 'version' | 'reason'>;
  private readonly requestSeconds: HistogramFamily;
  private readonly queueSeconds: HistogramFamily;
  private readonly computeSeconds: HistogramFamily;
  private readonly batchSize: HistogramFamily;
  private readonly http: CounterFamily;
  private readonly httpSeconds: HistogramFamily;
  private readonly explains: Counter<'model' | 'outcome'>;
  private readonly explainRows: Counter<'model'>;
  private readonly onPrediction: (e: PredictionEvent) => void;
  private readonly onUnloaded = (e: { name: string; version: string }) => this.forget(e.name, e.version);
  /** Labelled children by model, then version: looked up per request without building a key. */
  private readonly byModel = new TwoKeyMap<string, string, VersionChildren>();
  /** By route kind, then status code. */
  private readonly byRoute = new TwoKeyMap<string, number, HttpChildren>();

  constructor(
    private readonly deployer: Deployer,
    monitor?: Monitor,
  ) {
    const registry = this.registry;
    const labelNames = ['model', 'version'] as const;
    this.success = new CounterFamily(
      'modelship_inference_request_success_total',
      'Inference requests answered successfully (Triton: nv_inference_request_success)',
      labelNames,
      registry,
    );
    this.failure = new Counter({
      name: 'modelship_inference_request_failure_total',
      help: 'Inference requests that failed, by error code (Triton: nv_inference_request_failure)',
      labelNames: [...labelNames, 'reason'],
      registers: [registry],
    });
    this.requestSeconds = new HistogramFamily(
      'modelship_inference_request_duration_seconds',
      'Time from the request reaching the model queue to its answer, queue included',
      labelNames,
      LATENCY_BUCKETS,
      registry,
    );
    this.queueSeconds = new HistogramFamily(
      'modelship_inference_queue_duration_seconds',
      'Time spent waiting for a slot or a batch (Triton: nv_inference_queue_duration_us)',
      labelNames,
      LATENCY_BUCKETS,
      registry,
    );
    this.computeSeconds = new HistogramFamily(
      'modelship_inference_compute_duration_seconds',
      'Time in the model call that answered the request (Triton: nv_inference_compute_infer_duration_us)',
      labelNames,
      LATENCY_BUCKETS,
      registry,
    );
    this.batchSize = new HistogramFamily(
      'modelship_inference_batch_size',
      'Rows in the model call that answered each request (dynamic batching)',
      labelNames,
      [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registry,
    );
    this.http = new CounterFamily(
      'modelship_http_requests_total',
      'HTTP requests by route kind and status code',
      ['route', 'code'],
      registry,
    );
    this.httpSeconds = new HistogramFamily(
      'modelship_http_request_duration_seconds',
      'HTTP request handling time by route kind, body parsing and encoding included',
      ['route'],
      LATENCY_BUCKETS,
      registry,
    );
    const registers = [registry];
    this.explains = new Counter({
      name: 'modelship_explain_requests_total',
      help: 'POST :explain requests of deployed models, by outcome: success, or the error code',
      labelNames: ['model', 'outcome'],
      registers,
    });
    this.explainRows = new Counter({
      name: 'modelship_explain_model_rows_total',
      help: 'Model rows evaluated to answer :explain requests (coalitions × background rows)',
      labelNames: ['model'],
      registers,
    });
    const inFlight = new Gauge({
      name: 'modelship_inference_pending_requests',
      help: 'Requests queued or running now (Triton: nv_inference_pending_request_count)',
      labelNames,
      registers,
      collect: () => {
        inFlight.reset();
        for (const d of deployer.status())
          for (const v of d.versions)
            inFlight.set({ model: d.name, version: v.version }, v.queued + v.inFlight);
      },
    });
    const traffic = new Gauge({
      name: 'modelship_version_traffic_share',
      help: 'Share of policy-routed traffic each version receives',
      labelNames,
      registers,
      collect: () => {
        traffic.reset();
        for (const d of deployer.status())
          for (const v of d.versions) traffic.set({ model: d.name, version: v.version }, v.traffic);
      },
    });
    const warmupSkipped = new Gauge({
      name: 'modelship_version_warmup_skipped',
      help: 'Loaded versions serving without warmup because the synthetic warmup failed (1), labelled by the error code; the reason is in the version status',
      labelNames: ['model', 'version', 'reason'],
      registers,
      collect: () => {
        warmupSkipped.reset();
        for (const d of deployer.status())
          for (const v of d.versions)
            if (v.warmup?.state === 'skipped')
              warmupSkipped.set({ model: d.name, version: v.version, reason: v.warmup.code ?? 'ERROR' }, 1);
      },
    });
    // What each deployment's input screen counted (Deployer.screen), per version since it loaded.
    const screenCounts: [string, string, 'records' | 'qualityViolations' | 'scored' | 'outliers'][] = [
      ['modelship_screened_records_total', 'Records the input screen checked', 'records'],
      [
        'modelship_quality_violation_records_total',
        'Records with at least one data-quality finding',
        'qualityViolations',
      ],
      ['modelship_outlier_scored_records_total', 'Records the outlier detector scored', 'scored'],
      ['modelship_outlier_records_total', "Records at or above the outlier detector's threshold", 'outliers'],
    ];
    for (const [name, help, field] of screenCounts) {
      const counter: Counter<'model' | 'version'> = new Counter({
        name,
        help,
        labelNames,
        registers,
        collect: () => {
          counter.reset();
          for (const d of deployer.status())
            for (const v of d.versions)
              if (v.screen !== undefined && v.screen[field] > 0)
                counter.inc({ model: d.name, version: v.version }, v.screen[field]);
        },
      });
    }
    if (monitor !== undefined) registerMonitorMetrics(monitor, registry);
    collectDefaultMetrics({ register: registry, prefix: 'modelship_' });
    this.onPrediction = (e) => {
      if (e.kind !== 'serve') return;
      const c = this.versionChildren(e.name, e.version);
      if (e.error === undefined) c.success.inc();
      else {
        const code = (e.error as { code?: unknown }).code;
        const reason = typeof code === 'string' ? code : 'UNKNOWN';
        c.reasons.add(reason);
        this.failure.inc({ model: e.name, version: e.version, reason });
      }
      c.request.observe(e.latencyMs / 1000);
      if (e.batchSize > 0) {
        c.queue.observe(e.queueMs / 1000);
        c.compute.observe(Math.max(0, e.latencyMs - e.queueMs) / 1000);
        c.batch.observe(e.batchSize);
      }
    };
    deployer.on('prediction', this.onPrediction);
    deployer.on('unloaded', this.onUnloaded);
  }

  /**
   * Drops an unloaded version's series: with a new version every few minutes (hot swaps), they
   * would otherwise pile up in memory and in every scrape for as long as the server runs.
   */
  private forget(model: string, version: string): void {
    const c = this.byModel.get(model, version);
    if (c === undefined) return;
    this.byModel.delete(model, version);
    this.success.remove(c.success);
    this.requestSeconds.remove(c.request);
    this.queueSeconds.remove(c.queue);
    this.computeSeconds.remove(c.compute);
    this.batchSize.remove(c.batch);
    for (const reason of c.reasons) this.failure.remove({ model, version, reason });
  }

  private versionChildren(model: string, version: string): VersionChildren {
    const found = this.byModel.get(model, version);
    if (found !== undefined) return found;
    const labels = { model, version };
    return this.byModel.set(model, version, {
      reasons: new Set(),
      success: this.success.child(labels),
      request: this.requestSeconds.child(labels),
      queue: this.queueSeconds.child(labels),
      compute: this.computeSeconds.child(labels),
      batch: this.batchSize.child(labels),
    });
  }

  /** Counts one `:explain` request of a deployed model and the model rows it evaluated. */
  observeExplain(model: string, outcome: string, rows: number): void {
    this.explains.inc({ model, outcome });
    if (rows > 0) this.explainRows.inc({ model }, rows);
  }

  observeHttp(route: string, code: number, seconds: number): void {
    const c =
      this.byRoute.get(route, code) ??
      this.byRoute.set(route, code, {
        count: this.http.child({ route, code: String(code) }),
        seconds: this.httpSeconds.child({ route }),
      });
    c.count.inc();
    c.seconds.observe(seconds);
  }

  async response(): Promise<HandlerResponse> {
    return {
      status: 200,
      headers: { 'content-type': this.registry.contentType },
      body: await this.registry.metrics(),
    };
  }

  /** Stops listening to the deployer. */
  dispose(): void {
    this.deployer.off('prediction', this.onPrediction);
    this.deployer.off('unloaded', this.onUnloaded);
  }
}

/**
 * Exposes a Monitor's windows as Prometheus gauges, read at scrape time: latency quantiles,
 * error ratio, throughput, live accuracy from late labels, active alerts.
 */
export function registerMonitorMetrics(monitor: Monitor, registry: Registry): void {
  const registers = [registry];
  const latency = new Gauge({
    name: 'modelship_monitor_latency_seconds',
    help: "Latency quantiles over the Monitor's window (relative error within its accuracy)",
    labelNames: ['model', 'version', 'quantile'],
    registers,
    collect: () => {
      latency.reset();
      for (const s of monitor.snapshot()) {
        for (const [q, v] of [
          ['0.5', s.latencyMs.p50],
          ['0.9', s.latencyMs.p90],
          ['0.99', s.latencyMs.p99],
        ] as const) {
          if (v !== undefined) latency.set({ model: s.model, version: s.version, quantile: q }, v / 1000);
        }
      }
    },
  });
  const errors = new Gauge({
    name: 'modelship_monitor_error_ratio',
    help: "Share of failed requests over the Monitor's window",
    labelNames: ['model', 'version'],
    registers,
    collect: () => {
      errors.reset();
      for (const s of monitor.snapshot()) errors.set({ model: s.model, version: s.version }, s.errorRate);
    },
  });
  const throughput = new Gauge({
    name: 'modelship_monitor_requests_per_second',
    help: "Requests per second over the Monitor's window",
    labelNames: ['model', 'version'],
    registers,
    collect: () => {
      throughput.reset();
      for (const s of monitor.snapshot())
        throughput.set({ model: s.model, version: s.version }, s.throughput);
    },
  });
  const live = new Gauge({
    name: 'modelship_monitor_live_accuracy',
    help: 'Accuracy on the most recent predictions whose labels arrived (recordOutcome)',
    labelNames: ['model', 'version'],
    registers,
    collect: () => {
      live.reset();
      for (const p of monitor.performance()) live.set({ model: p.model, version: p.version }, p.accuracy);
    },
  });
  const findings: Counter<'model' | 'version' | 'feature' | 'rule'> = new Counter({
    name: 'modelship_quality_findings_total',
    help: 'Data-quality findings of the input screen by feature and rule (missing, out_of_range, unseen_category, wrong_type, non_finite)',
    labelNames: ['model', 'version', 'feature', 'rule'],
    registers,
    collect: () => {
      findings.reset();
      for (const s of monitor.snapshot())
        for (const f of s.screen?.totals.findings ?? [])
          findings.inc({ model: s.model, version: s.version, feature: f.feature, rule: f.rule }, f.count);
    },
  });
  const screenRates = new Gauge({
    name: 'modelship_monitor_screen_ratio',
    help: "Share of screened records over the Monitor's window with a data-quality finding (kind=quality) or at or above the outlier threshold (kind=outlier)",
    labelNames: ['model', 'version', 'kind'],
    registers,
    collect: () => {
      screenRates.reset();
      for (const s of monitor.snapshot()) {
        if (s.screen === undefined) continue;
        screenRates.set(
          { model: s.model, version: s.version, kind: 'quality' },
          s.screen.qualityViolationRate,
        );
        screenRates.set({ model: s.model, version: s.version, kind: 'outlier' }, s.screen.outlierRate);
      }
    },
  });
  const outlierScore = new Gauge({
    name: 'modelship_monitor_outlier_score',
    help: "Quantiles of the outlier detector's scores over the Monitor's window",
    labelNames: ['model', 'version', 'quantile'],
    registers,
    collect: () => {
      outlierScore.reset();
      for (const s of monitor.snapshot()) {
        const q = s.screen?.outlierScore;
        if (q === undefined) continue;
        for (const [k, v] of [
          ['0.5', q.p50],
          ['0.9', q.p90],
          ['0.99', q.p99],
        ] as const)
          if (v !== undefined) outlierScore.set({ model: s.model, version: s.version, quantile: k }, v);
      }
    },
  });
  const alerts = new Gauge({
    name: 'modelship_monitor_alerts_active',
    help: 'Alerts firing now (1 per rule, model and version)',
    labelNames: ['rule', 'model', 'version'],
    registers,
    collect: () => {
      alerts.reset();
      for (const a of monitor.alerts()) alerts.set({ rule: a.rule, model: a.model, version: a.version }, 1);
    },
  });
}

/**
 * Counts a repository's files changed in place: `modelship_repository_file_changes_total` by
 * model, version and outcome (`reloaded` from the new bytes, or `refused` while the bytes
 * loaded before keep serving).
 */
export function registerRepositoryMetrics(repository: RepositoryControl, registry: Registry): void {
  const changes = new Counter({
    name: 'modelship_repository_file_changes_total',
    help: 'Serving model files overwritten in place, by outcome: reloaded, or refused (the old bytes keep serving)',
    labelNames: ['model', 'version', 'outcome'],
    registers: [registry],
  });
  repository.on?.('versionChanged', ({ model, version, outcome }) =>
    changes.inc({ model, version, outcome }),
  );
}
