import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { InternetState } from '../core/internet.ts';
import type { Redactor } from '../core/redact.ts';
import type { HttpContext } from '../http/context.ts';
import type { EventBus } from '../kernel/event-bus.ts';
import type { Metrics } from '../kernel/metrics.ts';
import type { ServiceModule } from '../kernel/module.ts';
import type { OutboxService } from '../outbox/service.ts';
import type { LanDelivery } from '../providers/lan-hub.ts';
import type { Db } from '../store/driver.ts';

/** What the LAN hub and the printers need from the running process; the hub registers itself in `lanHub`. */
export interface LanHost {
  db: Db;
  config: Config;
  logger: Logger;
  redactor: Redactor;
  events: EventBus;
  metrics: Metrics;
  outbox: OutboxService;
  dispatcher: { readonly worker: string } | null;
  state: { internet(): InternetState };
  lanHub: LanDelivery | null;
}
import { LanHub } from './hub.ts';
import { lanRoutes } from './routes.ts';
import { devicePageRoute } from './device-page.ts';
import { printerRoutes } from '../printers/routes.ts';
import { attachLanWebSocket } from './ws-server.ts';
import { CLOSE } from './protocol.ts';
import { PrinterManager } from '../printers/manager.ts';

/**
 * The LAN hub as a service module: HTTP routes and the WebSocket on the API server, and the hub
 * itself (inbox writer for the LAN lane, socket pushes, acks) in every process mode — a dispatch-only
 * process writes inboxes and NOTIFYs the API processes that hold the sockets.
 */
export function lanModule(
  opts: {
    devicePostRate?: { burst: number; perSecond: number };
    printerTimeouts?: { connectMs: number; statusMs: number; writeMs: number };
  } = {},
): ServiceModule<LanHost, HttpContext> {
  let hub: LanHub | null = null;
  let printers: PrinterManager | null = null;
  let rt: LanHost | null = null;
  let socket: { close(): void } | null = null;
  return {
    routes(app, ctx) {
      lanRoutes(app, ctx, () => hub, opts.devicePostRate);
      devicePageRoute(app);
      printerRoutes(app, ctx, () => printers);
      socket = attachLanWebSocket(app.server, {
        db: ctx.db,
        config: ctx.config,
        logger: ctx.logger,
        redactor: ctx.redactor,
        hub: () => hub,
      });
      // Open sockets would keep the HTTP server from closing: end them first.
      app.addHook('preClose', async () => {
        socket?.close();
        hub?.closeAll(CLOSE.goingAway, 'server shutting down');
      });
    },
    async start(runtime) {
      rt = runtime;
      hub = new LanHub({
        db: runtime.db,
        config: runtime.config,
        logger: runtime.logger.child({ component: 'lan' }),
        redactor: runtime.redactor,
        events: runtime.events,
        worker: () => runtime.dispatcher?.worker ?? null,
        internet: () => runtime.state.internet(),
        written: (t, devices) => printers?.kick(t, devices),
      });
      await hub.start();
      // Printers are LAN devices whose inbox the hub drains itself: a print worker per printer.
      printers = new PrinterManager({
        db: runtime.db,
        logger: runtime.logger.child({ component: 'printers' }),
        scrub: (s) => runtime.redactor.scrub(s),
        metrics: runtime.metrics.registry,
        timeouts: opts.printerTimeouts,
      });
      await printers.start();
      runtime.lanHub = hub;
      // A kitchen ticket stored here is in the screens' inboxes at its commit and pushed right after.
      const h = hub;
      runtime.outbox?.setInboxAtEnqueue({
        hubId: h.id,
        written: (row, entries) => h.pushWritten(row, entries),
      });
    },
    async stop() {
      rt?.outbox?.setInboxAtEnqueue(null);
      await printers?.stop();
      printers = null;
      if (rt) rt.lanHub = null;
      await hub?.stop();
      hub = null;
    },
  };
}
