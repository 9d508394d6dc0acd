import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { HttpContext } from '../http/context.ts';
import type { LanHub } from './hub.ts';
import { WS_PATH } from './protocol.ts';
import { tags } from './route-schemas.ts';
import { deviceRoutes } from './routes-devices.ts';
import { DEVICE_POST_RATE, notificationRoutes } from './routes-notifications.ts';
import { pairingRoutes } from './routes-pairing.ts';

export { PAIR_RATE } from './routes-pairing.ts';
export { DEVICE_POST_RATE } from './routes-notifications.ts';

/** Devices, device tokens and in_app notifications. The WebSocket itself is served by ws-server.ts. */
export function lanRoutes(
  app: FastifyInstance,
  ctx: HttpContext,
  hub: () => LanHub | null,
  postRate: { burst: number; perSecond: number } = DEVICE_POST_RATE,
): void {
  pairingRoutes(app, ctx);
  deviceRoutes(app, ctx, hub);
  notificationRoutes(app, ctx, postRate);

  // Reached only by requests without an Upgrade header (upgrades go to the 'upgrade' event).
  app.get(
    WS_PATH,
    {
      config: {
        openapi: {
          summary:
            'The LAN WebSocket (device token in the Authorization header or the first message; protocol in docs/lan.md)',
          tags,
          auth: 'device',
          response: { status: 101, description: 'Switching Protocols' },
          errors: [
            'upgrade_required',
            'origin_not_allowed',
            'bad_request',
            'rate_limited',
            'lan_unavailable',
          ],
        },
      },
    },
    async () => {
      throw new AppError('upgrade_required', 'This is the LAN WebSocket; connect with a WebSocket client.');
    },
  );
}
