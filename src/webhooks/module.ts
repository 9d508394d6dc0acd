import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import type { HttpContext } from '../http/context.ts';
import type { Metrics } from '../kernel/metrics.ts';
import type { RuntimeMode, ServiceModule } from '../kernel/module.ts';
import type { OutboxService } from '../outbox/service.ts';
import type { Db } from '../store/driver.ts';
import { WebhookProcessor, type ProcessorHooks } from './processor.ts';
import { webhookRoutes, type WebhookRouteHooks } from './routes.ts';

export interface WebhooksModuleOptions {
  hooks?: WebhookRouteHooks & ProcessorHooks;
}

/** What the webhook processor needs from the running process. */
export interface WebhooksHost {
  db: Db;
  config: Config;
  redactor: Redactor;
  metrics: Metrics;
  logger: Logger;
  outbox: OutboxService;
  mode: RuntimeMode;
}

export interface WebhooksModule extends ServiceModule<WebhooksHost, HttpContext> {
  /** The running processor (null before start, in api-only processes, and after stop). */
  readonly processor: WebhookProcessor | null;
}

/**
 * Inbound webhooks as a service module: the webhook and owner API routes on the HTTP server, and
 * the processor that applies stored deliveries. API-only processes store and acknowledge; the
 * processor runs in serve and dispatch processes (any number of them: claims are leased).
 */
export function webhooksModule(opts: WebhooksModuleOptions = {}): WebhooksModule {
  let processor: WebhookProcessor | null = null;
  return {
    get processor() {
      return processor;
    },
    routes(app, ctx) {
      webhookRoutes(app, ctx, opts.hooks);
    },
    async start(rt) {
      if (rt.mode === 'api') return;
      processor = new WebhookProcessor({
        db: rt.db,
        config: rt.config,
        redactor: rt.redactor,
        metrics: rt.metrics,
        logger: rt.logger.child({ component: 'webhooks' }),
        outbox: rt.outbox,
        hooks: opts.hooks,
      });
      await processor.start();
    },
    async stop() {
      await processor?.stop();
      processor = null;
    },
  };
}
