import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { BatchBody, EnqueueBody, ListQuery } from '../../outbox/schemas.ts';
import { actorName, principalOf, requireRole } from '../auth.ts';
import type { HttpContext } from '../context.ts';
import { parseWith } from '../errors.ts';
import { presentAttempt, presentAudit, presentItem } from '../present.ts';

const IdParams = z.object({ id: z.string().max(100) });
const IdemHeader = z.string().min(1).max(200).optional();

export function outboxRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const owner = requireRole(ctx.db, ['owner', 'service']);

  app.post('/api/v1/outbox', { preHandler: owner }, async (req, reply) => {
    const p = principalOf(req);
    const input = parseWith(EnqueueBody, req.body);
    const header = parseWith(IdemHeader, req.headers['idempotency-key']);
    if (header && input.idempotencyKey && header !== input.idempotencyKey) {
      throw new AppError('validation_failed', 'The Idempotency-Key header and body idempotencyKey differ.');
    }
    const { row, created } = await ctx.outbox.enqueue(input, { tenant: p.tenant, name: actorName(p) }, header);
    return reply
      .code(202)
      .header('location', `/api/v1/outbox/${row.id}`)
      .send({ id: row.id, status: row.status, reason: row.reason, created });
  });

  app.post(
    '/api/v1/outbox/batch',
    { preHandler: owner, bodyLimit: ctx.config.env.COMMS_BATCH_BODY_LIMIT_BYTES },
    async (req, reply) => {
      const p = principalOf(req);
      const { messages } = parseWith(BatchBody, req.body);
      const results = await ctx.outbox.enqueueBatch(messages, { tenant: p.tenant, name: actorName(p) });
      return reply.code(202).send({
        items: results.map(({ row, created }) => ({ id: row.id, status: row.status, reason: row.reason, created })),
      });
    },
  );

  app.get('/api/v1/outbox', { preHandler: owner }, async (req) => {
    const p = principalOf(req);
    const q = parseWith(ListQuery, req.query ?? {});
    const { items, nextCursor } = await ctx.outbox.list(p.tenant.id, q);
    return { items: items.map((r) => presentItem(r, { mask: true })), nextCursor };
  });

  app.get('/api/v1/outbox/:id', { preHandler: owner }, async (req) => {
    const p = principalOf(req);
    const { id } = parseWith(IdParams, req.params);
    const row = await ctx.outbox.get(p.tenant.id, id);
    if (!row) throw new AppError('not_found', 'No such outbox item.');
    const attempts = await ctx.outbox.attempts(p.tenant.id, id);
    return { ...presentItem(row, { mask: false }), attempts: attempts.map(presentAttempt) };
  });

  app.get('/api/v1/outbox/:id/audit', { preHandler: owner }, async (req) => {
    const p = principalOf(req);
    const { id } = parseWith(IdParams, req.params);
    const row = await ctx.outbox.get(p.tenant.id, id);
    if (!row) throw new AppError('not_found', 'No such outbox item.');
    const events = await ctx.outbox.audit(p.tenant.id, id);
    return { events: events.map(presentAudit) };
  });

  app.post('/api/v1/outbox/:id/retry', { preHandler: owner }, async (req) => {
    const p = principalOf(req);
    const { id } = parseWith(IdParams, req.params);
    const row = await ctx.outbox.retry(p.tenant, id, actorName(p));
    return { id: row.id, status: row.status, reason: row.reason };
  });

  app.post('/api/v1/outbox/:id/cancel', { preHandler: owner }, async (req) => {
    const p = principalOf(req);
    const { id } = parseWith(IdParams, req.params);
    const row = await ctx.outbox.cancel(p.tenant.id, id, actorName(p));
    return { id: row.id, status: row.status, reason: row.reason };
  });
}
