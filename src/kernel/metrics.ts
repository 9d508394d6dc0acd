import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one service instance (own registry, so tests can run several). */
export class Metrics {
  readonly registry = new Registry();
  readonly dispatchLatency = new Histogram({
    name: 'comms_dispatch_latency_seconds',
    help: 'Enqueue (or due time) to end of the send attempt',
    labelNames: ['adapter', 'outcome'],
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly attempts = new Counter({
    name: 'comms_attempts_total',
    help: 'Delivery attempts by adapter and outcome',
    labelNames: ['adapter', 'outcome'],
    registers: [this.registry],
  });
  readonly secretGuardHits = new Counter({
    name: 'comms_secret_guard_hits_total',
    help: 'Responses in which the secret guard replaced a configured secret value',
    labelNames: ['variable'],
    registers: [this.registry],
  });
  readonly rowsByStatus = new Gauge({
    name: 'comms_outbox_rows',
    help: 'Outbox rows by status and channel (all tenants)',
    labelNames: ['status', 'channel'],
    registers: [this.registry],
  });
  readonly webhookUnroutable = new Counter({
    name: 'comms_webhook_unroutable_total',
    help: 'Webhook deliveries that matched no tenant',
    labelNames: ['provider'],
    registers: [this.registry],
  });
  readonly circuitOpen = new Gauge({
    name: 'comms_circuit_open',
    help: '1 while the circuit breaker of an online lane is open',
    labelNames: ['adapter'],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
