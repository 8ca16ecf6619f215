/**
 * Counters and histograms for the per-request path, registered in a prom-client `Registry` and
 * rendered by it. prom-client's own `observe` hashes a labels object into a string and indexes
 * its buckets by number on every call (about a microsecond each, seven times a request); here a
 * labelled child is looked up once and an observation is a bucket scan over a typed array.
 */
import type { Registry } from 'prom-client';

interface Sample {
  labels: Record<string, string>;
  value: number;
  metricName?: string;
}

/** What prom-client's registry asks of a metric it renders. */
interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: 'sum' };
  reset(): void;
}

function checkLabels(family: string, names: readonly string[], labels: Record<string, string>): void {
  const given = Object.keys(labels);
  if (given.length !== names.length || names.some((n) => typeof labels[n] !== 'string'))
    throw new TypeError(`${family}: labels must be exactly ${names.join(', ')} as strings`);
}

/** One labelled counter. */
export class CounterChild {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}

  inc(): void {
    this.value++;
  }
}

/** A counter family (`# TYPE … counter`), one child per label set. */
export class CounterFamily implements Family {
  readonly type = 'counter' as const;
  readonly aggregator = 'sum' as const;
  private readonly children = new Map<string, CounterChild>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The child for a label set, made on first use; keep it and call `inc` on it. */
  child(labels: Record<string, string>): CounterChild {
    checkLabels(this.name, this.labelNames, labels);
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let c = this.children.get(key);
    if (c === undefined) {
      c = new CounterChild({ ...labels });
      this.children.set(key, c);
    }
    return c;
  }

  get() {
    const values: Sample[] = [];
    for (const c of this.children.values()) values.push({ labels: c.labels, value: c.value });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const c of this.children.values()) c.value = 0;
  }
}

/** One labelled histogram: a count per bucket (not cumulative until rendered), sum and count. */
export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: Float64Array,
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return; // NaN or ±Infinity would poison the sum; never expected
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    // A value above the last bound lands only in +Inf, which is the count.
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** A histogram family (`# TYPE … histogram`) with fixed upper bounds. */
export class HistogramFamily implements Family {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly children = new Map<string, HistogramChild>();
  private readonly bounds: Float64Array;
  private readonly les: string[];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    if (
      buckets.length === 0 ||
      buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))
    )
      throw new TypeError(`${name}: buckets must be finite and strictly increasing`);
    this.bounds = Float64Array.from(buckets);
    this.les = buckets.map(String);
    registry.registerMetric(this as never);
  }

  /** The child for a label set, made on first use; keep it and call `observe` on it. */
  child(labels: Record<string, string>): HistogramChild {
    checkLabels(this.name, this.labelNames, labels);
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let c = this.children.get(key);
    if (c === undefined) {
      c = new HistogramChild({ ...labels }, this.bounds);
      this.children.set(key, c);
    }
    return c;
  }

  get() {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.children.values()) {
      let acc = 0;
      for (let i = 0; i < this.les.length; i++) {
        acc += c.counts[i]!;
        values.push({ labels: { le: this.les[i]!, ...c.labels }, value: acc, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: bucket });
      values.push({ labels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: c.labels, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const c of this.children.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}
