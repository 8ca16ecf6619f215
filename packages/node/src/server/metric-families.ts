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

function checkLabels(family: string, names: readonly string[], labels: Record<string, string>): void {
  const given = Object.keys(labels);
  if (given.length !== names.length || names.some((n) => typeof labels[n] !== 'string'))
    throw new TypeError(`${family}: labels must be exactly ${names.join(', ')} as strings`);
}

/**
 * A family of labelled children, in the shape prom-client's registry renders (name, help, type,
 * aggregator, `get`, `reset`). Subclasses say how a child is made and what it shows.
 */
abstract class Family<C extends { readonly labels: Record<string, string> }> {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;
  protected readonly children = new Map<string, C>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
  ) {}

  /** The child for a label set, made on first use; keep it rather than asking again. */
  child(labels: Record<string, string>): C {
    checkLabels(this.name, this.labelNames, labels);
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let c = this.children.get(key);
    if (c === undefined) {
      c = this.make({ ...labels });
      this.children.set(key, c);
    }
    return c;
  }

  /** Drops a child, so a label set that is gone (a retired version) stops being exported. */
  remove(child: C): void {
    this.children.delete(this.labelNames.map((n) => child.labels[n]).join('\u0000'));
  }

  get() {
    const values: Sample[] = [];
    for (const c of this.children.values()) this.samples(c, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  abstract reset(): void;

  protected abstract make(labels: Record<string, string>): C;

  /** Appends what one child shows. */
  protected abstract samples(child: C, out: Sample[]): void;

  /** Called last by each subclass's constructor, once the family is whole. */
  protected register(registry: Registry): void {
    registry.registerMetric(this as never);
  }
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
export class CounterFamily extends Family<CounterChild> {
  readonly type = 'counter' as const;

  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    super(name, help, labelNames);
    this.register(registry);
  }

  protected make(labels: Record<string, string>): CounterChild {
    return new CounterChild(labels);
  }

  protected samples(c: CounterChild, out: Sample[]): void {
    out.push({ labels: c.labels, value: c.value });
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
export class HistogramFamily extends Family<HistogramChild> {
  readonly type = 'histogram' as const;
  private readonly bounds: Float64Array;
  private readonly les: string[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames);
    if (
      buckets.length === 0 ||
      buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))
    )
      throw new TypeError(`${name}: buckets must be finite and strictly increasing`);
    this.bounds = Float64Array.from(buckets);
    this.les = buckets.map(String);
    this.register(registry);
  }

  protected make(labels: Record<string, string>): HistogramChild {
    return new HistogramChild(labels, this.bounds);
  }

  protected samples(c: HistogramChild, out: Sample[]): void {
    const bucket = `${this.name}_bucket`;
    let acc = 0;
    for (let i = 0; i < this.les.length; i++) {
      acc += c.counts[i]!;
      out.push({ labels: { le: this.les[i]!, ...c.labels }, value: acc, metricName: bucket });
    }
    out.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: bucket });
    out.push({ labels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
    out.push({ labels: c.labels, value: c.count, metricName: `${this.name}_count` });
  }

  reset(): void {
    for (const c of this.children.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}
