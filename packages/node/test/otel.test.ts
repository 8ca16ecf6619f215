import { Monitor, registerMonitorOtel } from '@modelship/node';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';

describe('OpenTelemetry', () => {
  it("exports a Monitor's windows as observable gauges", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const monitor = new Monitor();
    registerMonitorOtel(monitor, provider.getMeter('modelship'));
    for (let i = 0; i < 20; i++)
      monitor.record({ model: 'fraud', version: '2', latencyMs: 1 + i, ...(i < 2 ? { error: 'x' } : {}) });
    monitor.addAlert({ name: 'errors', metric: 'errorRate', above: 0.05, minRequests: 10 });
    monitor.check();
    const { resourceMetrics } = await reader.collect();
    const metrics = Object.fromEntries(
      resourceMetrics.scopeMetrics[0]!.metrics.map((m) => [m.descriptor.name, m.dataPoints]),
    );
    expect(metrics['modelship.monitor.error_ratio']).toEqual([
      expect.objectContaining({ attributes: { model: 'fraud', version: '2' }, value: 0.1 }),
    ]);
    const p99 = metrics['modelship.monitor.latency']!.find((d) => d.attributes.quantile === '0.99')!;
    expect(Math.abs((p99.value as number) - 19) / 19).toBeLessThanOrEqual(0.01);
    expect(metrics['modelship.monitor.alerts_active']).toEqual([
      expect.objectContaining({ attributes: { rule: 'errors', model: 'fraud', version: '2' }, value: 1 }),
    ]);
    await provider.shutdown();
    expect(() => registerMonitorOtel(monitor, {} as never)).toThrow(/expected an OpenTelemetry Meter/);
  });
});
