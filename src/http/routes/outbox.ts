import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, type ErrorCode } from '../../core/errors.ts';
import { BatchBody, EnqueueBody, ListQuery, MESSAGE_BODY_LIMIT_BYTES } from '../../outbox/schemas.ts';
import { actorName, principalOf, requireRole } from '../auth.ts';
import type { HttpContext } from '../context.ts';
import { parseWith } from '../errors.ts';
import { route } from '../route.ts';
import { presentAttempt, presentAudit, presentItem } from '../present.ts';
import {
  AuditTrail,
  BatchAnswer,
  EnqueueAnswer,
  IdParams,
  OutboxItemDetail,
  OutboxPage,
  TransitionAnswer,
} from '../api-schemas.ts';

const IdemHeader = z.string().min(1).max(200).optional();

/** What enqueueing answers besides success, one message or a batch. */
const ENQUEUE_ERRORS: ErrorCode[] = [
  'validation_failed',
  'unknown_channel',
  'invalid_phone',
  'invalid_email',
  'invalid_target',
  'unknown_template',
  'template_data_invalid',
  'secret_in_content',
  'idempotency_conflict',
  'conflict',
  'forbidden',
];

export function outboxRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const owner = requireRole(ctx.principals, ['owner', 'service']);
  const itemOf = async (tenantId: string, id: string) => {
    const row = await ctx.outbox.get(tenantId, id);
    if (!row) throw new AppError('not_found', 'No such outbox item.');
    return row;
  };

  route(
    app,
    'POST',
    '/api/v1/outbox',
    {
      preHandler: owner,
      // The largest documented message (an email of 100,000 characters) must fit, whatever the
      // ordinary route limit is.
      bodyLimit: Math.max(ctx.config.env.COMMS_BODY_LIMIT_BYTES, MESSAGE_BODY_LIMIT_BYTES),
      doc: {
        summary: 'Enqueue one message (idempotent on Idempotency-Key)',
        tags: ['outbox'],
        auth: 'owner_or_service',
        body: EnqueueBody,
        response: { status: 202, schema: EnqueueAnswer },
        errors: ENQUEUE_ERRORS,
      },
    },
    async (parsed, req, reply) => {
      const p = principalOf(req);
      const input = parsed.body;
      const header = parseWith(IdemHeader, req.headers['idempotency-key']);
      if (header && input.idempotencyKey && header !== input.idempotencyKey) {
        throw new AppError('validation_failed', 'The Idempotency-Key header and body idempotencyKey differ.');
      }
      const { row, created } = await ctx.outbox.enqueue(
        input,
        { tenant: p.tenant, name: actorName(p) },
        header,
      );
      return reply
        .code(202)
        .header('location', `/api/v1/outbox/${row.id}`)
        .send({ id: row.id, status: row.status, reason: row.reason, created });
    },
  );

  route(
    app,
    'POST',
    '/api/v1/outbox/batch',
    {
      preHandler: owner,
      bodyLimit: ctx.config.env.COMMS_BATCH_BODY_LIMIT_BYTES,
      doc: {
        summary: 'Enqueue up to 1,000 messages, all or nothing',
        tags: ['outbox'],
        auth: 'owner_or_service',
        body: BatchBody,
        response: { status: 202, schema: BatchAnswer },
        errors: ENQUEUE_ERRORS,
      },
    },
    async (parsed, req, reply) => {
      const p = principalOf(req);
      const { messages } = parsed.body;
      const results = await ctx.outbox.enqueueBatch(messages, { tenant: p.tenant, name: actorName(p) });
      return reply.code(202).send({
        items: results.map(({ row, created }) => ({
          id: row.id,
          status: row.status,
          reason: row.reason,
          created,
        })),
      });
    },
  );

  route(
    app,
    'GET',
    '/api/v1/outbox',
    {
      preHandler: owner,
      doc: {
        summary: 'List outbox items (targets masked), newest first',
        tags: ['outbox'],
        auth: 'owner_or_service',
        query: ListQuery,
        response: { status: 200, schema: OutboxPage },
        errors: ['validation_failed', 'unknown_channel', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const q = parsed.query;
      const { items, nextCursor } = await ctx.outbox.list(p.tenant.id, q);
      return { items: items.map((r) => presentItem(r, { mask: true })), nextCursor };
    },
  );

  route(
    app,
    'GET',
    '/api/v1/outbox/:id',
    {
      preHandler: owner,
      doc: {
        summary: 'One outbox item with its attempts',
        tags: ['outbox'],
        auth: 'owner_or_service',
        params: IdParams,
        response: { status: 200, schema: OutboxItemDetail },
        errors: ['not_found', 'validation_failed', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const { id } = parsed.params;
      const row = await itemOf(p.tenant.id, id);
      const attempts = await ctx.outbox.attempts(p.tenant.id, id);
      // The item view also carries the template data (the panel shows amounts from it); lists never do.
      return { ...presentItem(row, { mask: false }), data: row.data, attempts: attempts.map(presentAttempt) };
    },
  );

  route(
    app,
    'GET',
    '/api/v1/outbox/:id/audit',
    {
      preHandler: owner,
      doc: {
        summary: 'The audit trail of one item',
        tags: ['outbox'],
        auth: 'owner_or_service',
        params: IdParams,
        response: { status: 200, schema: AuditTrail },
        errors: ['not_found', 'validation_failed', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const { id } = parsed.params;
      await itemOf(p.tenant.id, id);
      const events = await ctx.outbox.audit(p.tenant.id, id);
      return { events: events.map(presentAudit) };
    },
  );

  route(
    app,
    'POST',
    '/api/v1/outbox/:id/retry',
    {
      preHandler: owner,
      doc: {
        summary: 'Run the gate again for a failed, dead, blocked, expired or queued item',
        tags: ['outbox'],
        auth: 'owner_or_service',
        params: IdParams,
        response: { status: 200, schema: TransitionAnswer },
        errors: ['not_found', 'invalid_transition', 'conflict', 'validation_failed', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const { id } = parsed.params;
      const row = await ctx.outbox.retry(p.tenant, id, actorName(p));
      return { id: row.id, status: row.status, reason: row.reason };
    },
  );

  route(
    app,
    'POST',
    '/api/v1/outbox/:id/cancel',
    {
      preHandler: owner,
      doc: {
        summary: 'Cancel an item that has not been sent',
        tags: ['outbox'],
        auth: 'owner_or_service',
        params: IdParams,
        response: { status: 200, schema: TransitionAnswer },
        errors: ['not_found', 'invalid_transition', 'conflict', 'validation_failed', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const { id } = parsed.params;
      const row = await ctx.outbox.cancel(p.tenant.id, id, actorName(p));
      return { id: row.id, status: row.status, reason: row.reason };
    },
  );
}
