import type { ServiceModule } from '../app/runtime.ts';
import { WebhookProcessor, type ProcessorHooks } from './processor.ts';
import { webhookRoutes, type WebhookRouteHooks } from './routes.ts';

export interface WebhooksModuleOptions {
  hooks?: WebhookRouteHooks & ProcessorHooks;
}

export interface WebhooksModule extends ServiceModule {
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
