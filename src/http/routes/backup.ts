import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { safeEqual } from '../../core/secret-compare.ts';
import { BackupError, snapshotEmbeddedStore } from '../../store/backup.ts';
import { bearerOf } from '../auth.ts';
import type { HttpContext } from '../context.ts';
import { route } from '../route.ts';

/**
 * GET /api/v1/admin/backup (operator token): a consistent snapshot of the embedded store, as a tar
 * of its data directory (`mupza-comms backup` saves it gzipped, `mupza-comms restore` puts it
 * back). The copy is made in memory while no statement runs. It is sent uncompressed: gzip in this
 * process would take its chunks' turns on an event loop busy serving requests (85 s for 40 MB
 * under load), so the CLI compresses it.
 */
export function backupRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(
    app,
    'GET',
    '/api/v1/admin/backup',
    {
      doc: {
        summary: 'Snapshot of the embedded store (operator token; PGlite only)',
        tags: ['admin'],
        auth: 'operator',
        response: {
          status: 200,
          description: 'A gzipped tar of the PGlite data directory',
          contentType: 'application/gzip',
        },
        errors: ['unauthorized', 'conflict'],
      },
    },
    async (_parsed, req, reply) => {
      const admin = ctx.config.env.COMMS_ADMIN_TOKEN;
      const token = bearerOf(req);
      if (!admin || !token || !safeEqual(token, admin)) {
        throw new AppError('unauthorized', 'The operator token (COMMS_ADMIN_TOKEN) is required.');
      }
      let snap: Awaited<ReturnType<typeof snapshotEmbeddedStore>>;
      try {
        snap = await snapshotEmbeddedStore(ctx.db);
      } catch (err) {
        if (err instanceof BackupError) throw new AppError('conflict', err.message);
        throw err;
      }
      const { tar, checkpointMs, copyMs } = snap;
      req.log.info({ bytes: tar.size, checkpointMs, copyMs }, 'backup snapshot taken');
      const at = new Date().toISOString().replace(/[:.]/g, '-');
      return (
        reply
          .type('application/x-tar')
          .header('content-disposition', `attachment; filename="mupza-comms-${at}.tar"`)
          .header('cache-control', 'no-store')
          // A stream, which the response secret guard does not read as text: the store holds no env value
          // (they are read only by loadConfig), and a 40 MB binary scanned as UTF-8 could be mangled.
          .send(Readable.from([Buffer.from(await tar.arrayBuffer())]))
      );
    },
  );
}
