/** Payload logging's counts on `/metrics`, read from the sinks when scraped. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PayloadLogger } from './payload-log';

export function registerPayloadLogMetrics(logger: PayloadLogger, registry: Registry): void {
  const sinks = logger.options.sinks;
  new Counter({
    name: 'modelship_payload_log_events_total',
    help: 'Payload log events by sink and outcome: sent, dropped (queue full, oldest first), failed (undeliverable after retries, or left at close)',
    labelNames: ['sink', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sinks) {
        const st = s.stats();
        for (const outcome of ['sent', 'dropped', 'failed'] as const)
          this.inc({ sink: s.kind, outcome }, st[outcome]);
      }
      if (logger.errors > 0) this.inc({ sink: 'none', outcome: 'failed' }, logger.errors);
    },
  });
  new Gauge({
    name: 'modelship_payload_log_queue_length',
    help: 'Payload log events waiting to be sent, by sink',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sinks) this.inc({ sink: s.kind }, s.stats().queued);
    },
  });
}
