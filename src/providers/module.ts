import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { ProviderRegistry } from '../core/adapter.ts';
import type { Redactor } from '../core/redact.ts';
import type { HttpContext } from '../http/context.ts';
import type { RuntimeMode, ServiceModule } from '../kernel/module.ts';
import type { Db } from '../store/driver.ts';
import { providerRoutes } from './routes.ts';
import { whatsappTemplateRoutes } from './template-routes.ts';
import { isWhatsAppAdapter } from './whatsapp-cloud.ts';
import { wabaIdOf } from '../config/config.ts';
import { syncWhatsAppTemplates } from './whatsapp-templates.ts';

/** Template sync runs once a day (and at start) in serve and dispatch processes. */
export const TEMPLATE_SYNC_EVERY_MS = 24 * 60 * 60_000;

/**
 * Wires the live provider clients into a running service: the WhatsApp adapter gets the store that
 * holds the 24-hour windows, and the on-demand credential check route is registered.
 */
/** What the providers module needs from the running process. */
export interface ProvidersHost {
  db: Db;
  config: Config;
  redactor: Redactor;
  logger: Logger;
  registry: ProviderRegistry;
  mode: RuntimeMode;
}

export function providersModule(): ServiceModule<ProvidersHost, HttpContext> {
  let detach: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  return {
    routes(app, ctx) {
      providerRoutes(app, ctx);
      whatsappTemplateRoutes(app, ctx);
    },
    async start(rt) {
      const wa = rt.registry.get('whatsapp_cloud');
      if (isWhatsAppAdapter(wa)) {
        wa.useWindowStore(rt.db);
        detach = () => wa.useWindowStore(null);
      }
      if (rt.mode !== 'api' && wabaIdOf(rt.config)) {
        // In the background: a slow or failing Meta never holds up start-up or any send; a failed
        // sync keeps the last list and is tried again the next day (or on demand).
        const log = rt.logger.child({ component: 'whatsapp-templates' });
        const sync = () => {
          syncWhatsAppTemplates(rt.config, rt.db, rt.redactor).then(
            (list) => log.info({ templates: list.length }, 'whatsapp templates synced'),
            (err: unknown) =>
              log.warn({ err: rt.redactor.scrub(String(err)) }, 'whatsapp template sync failed'),
          );
        };
        timer = setInterval(sync, TEMPLATE_SYNC_EVERY_MS);
        timer.unref();
        setImmediate(sync);
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      detach?.();
      detach = null;
    },
  };
}
