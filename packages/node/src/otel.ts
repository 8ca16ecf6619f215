/**
 * A Monitor's windows as OpenTelemetry metrics (`@opentelemetry/api`, an optional peer): give it
 * a `Meter` from your MeterProvider and the gauges are read at each collection.
 */

import { invalidArgument, type Monitor } from '@modelship/core';
import type { Meter } from '@opentelemetry/api';

/**
 * Registers observable gauges for a Monitor on an OpenTelemetry meter:
 * `modelship.monitor.latency` (ms, attribute `quantile`), `modelship.monitor.error_ratio`,
 * `modelship.monitor.requests_per_second`, `modelship.monitor.live_accuracy` and
 * `modelship.monitor.alerts_active`, each with `model` and `version` attributes.
 *
 * @example
 * import { metrics } from '@opentelemetry/api';
 * registerMonitorOtel(monitor, metrics.getMeter('modelship'));
 */
export function registerMonitorOtel(monitor: Monitor, meter: Meter): void {
  if (typeof meter?.createObservableGauge !== 'function')
    throw invalidArgument('registerMonitorOtel', 'expected an OpenTelemetry Meter', meter);
  const latency = meter.createObservableGauge('modelship.monitor.latency', {
    description: "Latency quantiles over the Monitor's window",
    unit: 'ms',
  });
  const errors = meter.createObservableGauge('modelship.monitor.error_ratio', {
    description: "Share of failed requests over the Monitor's window",
  });
  const rate = meter.createObservableGauge('modelship.monitor.requests_per_second', {
    description: "Requests per second over the Monitor's window",
  });
  const accuracy = meter.createObservableGauge('modelship.monitor.live_accuracy', {
    description: 'Accuracy on the most recent predictions whose labels arrived',
  });
  const alerts = meter.createObservableGauge('modelship.monitor.alerts_active', {
    description: 'Alerts firing now',
  });
  meter.addBatchObservableCallback(
    (result) => {
      for (const s of monitor.snapshot()) {
        const attrs = { model: s.model, version: s.version };
        for (const [q, v] of [
          ['0.5', s.latencyMs.p50],
          ['0.9', s.latencyMs.p90],
          ['0.99', s.latencyMs.p99],
        ] as const) {
          if (v !== undefined) result.observe(latency, v, { ...attrs, quantile: q });
        }
        result.observe(errors, s.errorRate, attrs);
        result.observe(rate, s.throughput, attrs);
      }
      for (const p of monitor.performance())
        result.observe(accuracy, p.accuracy, { model: p.model, version: p.version });
      for (const a of monitor.alerts())
        result.observe(alerts, 1, { rule: a.rule, model: a.model, version: a.version });
    },
    [latency, errors, rate, accuracy, alerts],
  );
}
