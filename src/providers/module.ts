import type { ServiceModule } from '../app/runtime.ts';
import { providerRoutes } from '../http/routes/providers.ts';
import { isWhatsAppAdapter } from './whatsapp-cloud.ts';

/**
 * Wires the live provider clients into a running service: the WhatsApp adapter gets the store that
 * holds the 24-hour windows, and the on-demand credential check route is registered.
 */
export function providersModule(): ServiceModule {
  let detach: (() => void) | null = null;
  return {
    routes: providerRoutes,
    async start(rt) {
      const wa = rt.registry.get('whatsapp_cloud');
      if (isWhatsAppAdapter(wa)) {
        wa.useWindowStore(rt.db);
        detach = () => wa.useWindowStore(null);
      }
    },
    async stop() {
      detach?.();
      detach = null;
    },
  };
}
