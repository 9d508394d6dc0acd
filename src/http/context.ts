import type { InternetState } from '../core/internet.ts';
import type { Logger } from 'pino';
import type { Metrics } from '../kernel/metrics.ts';
import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import type { OutboxService } from '../outbox/service.ts';
import type { ProviderRegistry } from '../core/adapter.ts';
import type { Db } from '../store/driver.ts';
import type { EventBus } from '../kernel/event-bus.ts';
import type { PrincipalCache } from './principal-cache.ts';

/** What route modules receive from the composition root. */
export interface HttpContext {
  db: Db;
  config: Config;
  redactor: Redactor;
  metrics: Metrics;
  logger: Logger;
  registry: ProviderRegistry;
  outbox: OutboxService;
  events: EventBus;
  /** Bearer token lookups (cached briefly, dropped on any token or tenant change). */
  principals: PrincipalCache;
  /** State the readiness flags read. */
  state: {
    lanLaneSeparate: boolean;
    verifications: Map<string, { at: string; ok: boolean; detail: string }>;
    /** Can the hub reach its online providers (src/core/internet.ts)? */
    internet?: () => InternetState;
  };
}
