import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { WEB_DIST } from '../http/app.ts';

/**
 * GET /device: the notification center for POS desktops, waiter tablets and kitchen screens
 * (web/device.html, built with the owner panel into web/dist). Public: the page holds no data until
 * it is paired; its token lives in the device's own storage.
 */
export function devicePageRoute(app: FastifyInstance): void {
  app.get(
    '/device',
    {
      config: {
        openapi: {
          summary: 'The device app (notification center); pair it with a code from the owner panel',
          tags: ['lan'],
          auth: 'public',
          response: { status: 200, description: 'HTML page' },
        },
      },
    },
    async (_req, reply) => {
      let html: string;
      try {
        html = await readFile(join(WEB_DIST, 'device.html'), 'utf8');
      } catch {
        html =
          '<!doctype html><title>MUPZAOS</title><p>The device app is not built. Run <code>npm run build:web</code>.</p>';
      }
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
    },
  );
}
