import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { actorName, principalOf, requireRole } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { parseWith } from '../http/errors.ts';
import { SOURCE_RE } from '../outbox/schemas.ts';
import { DEVICE_ROLES } from './devices.ts';
import { TokenBucket } from './rate-limit.ts';
import { DeviceId, tags } from './route-schemas.ts';
import { route } from '../http/route.ts';

const NotificationBody = z
  .object({
    target: z.union([
      z.object({ device: DeviceId }).strict(),
      z.object({ role: z.enum(DEVICE_ROLES) }).strict(),
    ]),
    title: z.string().trim().min(1).max(200),
    body: z.string().min(1).max(2_000),
    source: z.string().regex(SOURCE_RE, 'lowercase letters, digits, _ . - (max 64)').default('lan'),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict();
const IdemHeader = z.string().min(1).max(200).optional();
const Enqueued = z.object({
  id: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  created: z.boolean(),
});

/** Notifications a device may post over HTTP: bursts of 20, 10 per second. */
export const DEVICE_POST_RATE = { burst: 20, perSecond: 10 };

/** In_app notifications posted over HTTP, by the back office or by a device (rate-limited). */
export function notificationRoutes(
  app: FastifyInstance,
  ctx: HttpContext,
  postRate: { burst: number; perSecond: number } = DEVICE_POST_RATE,
): void {
  const sender = requireRole(ctx.principals, ['owner', 'service', 'device']);
  const buckets = new Map<string, TokenBucket>();

  route(
    app,
    'POST',
    '/api/v1/lan/notifications',
    {
      preHandler: sender,
      doc: {
        summary:
          'Notify one device or every device of a role (an in_app outbox row); devices may call it too',
        tags,
        auth: 'any_token',
        body: NotificationBody,
        response: { status: 202, schema: Enqueued },
        errors: ['validation_failed', 'idempotency_conflict', 'conflict', 'rate_limited', 'invalid_target'],
      },
    },
    async (parsed, req, reply) => {
      const p = principalOf(req);
      if (p.role === 'device') {
        const key = `${p.tenant.id}\u0000${p.subject}`;
        let b = buckets.get(key);
        if (!b) buckets.set(key, (b = new TokenBucket(postRate.burst, postRate.perSecond)));
        if (!b.take()) {
          throw new AppError('rate_limited', 'This device is sending notifications too fast.', {
            headers: { 'retry-after': String(Math.max(1, Math.ceil(b.waitMs() / 1000))) },
          });
        }
      }
      const body = parsed.body;
      const header = parseWith(IdemHeader, req.headers['idempotency-key']);
      if (header && body.idempotencyKey && header !== body.idempotencyKey) {
        throw new AppError('validation_failed', 'The Idempotency-Key header and body idempotencyKey differ.');
      }
      const target = 'device' in body.target ? body.target.device : `role:${body.target.role}`;
      const { row, created } = await ctx.outbox.enqueue(
        {
          channel: 'in_app',
          target,
          title: body.title,
          body: body.body,
          source: body.source,
          idempotencyKey: body.idempotencyKey,
        },
        { tenant: p.tenant, name: actorName(p) },
        header,
      );
      return reply
        .code(202)
        .header('location', `/api/v1/outbox/${row.id}`)
        .send({ id: row.id, status: row.status, reason: row.reason, created });
    },
  );
}
