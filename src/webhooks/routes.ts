import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { maskTarget } from '../core/redact.ts';
import { actorName, principalOf, requireRole } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { decodeCursor } from '../core/cursor.ts';
import { getInbound, listInbound, type InboundRow } from './inbound.ts';
import { announceReceipt, storeReceipt, type WebhookProvider } from './receipts.ts';
import {
  InboundDetail,
  InboundPage,
  InboundParams,
  InboundQuery,
  TelegramLinkAnswer,
  TelegramLinkBody,
  TelegramUpdateBody,
  WebhookAck,
  WhatsAppUsage,
  WhatsAppUsageQuery,
  WhatsAppVerifyQuery,
  WhatsAppWebhookBody,
} from './schemas.ts';
import { estimateAzn, parseCaps, parsePriceTable } from '../core/wa-pricing.ts';
import { monthlyUsage } from '../store/sql/wa-usage.ts';
import { verifyMetaSignature, verifyTelegramSecret } from './signature.ts';
import { createLink, deepLink } from './telegram-links.ts';
import { updateIdOf } from './telegram-update.ts';
import { safeEqual } from '../core/secret-compare.ts';
import { route } from '../http/route.ts';

export interface WebhookRouteHooks {
  /** Told each time an HMAC is computed (tests prove an oversized body never reaches it). */
  onHmac?(): void;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The raw body as JSON; malformed (or not UTF-8, or not an object) is bad_request, stored nowhere. */
function parseRaw(raw: Buffer): { text: string; value: Record<string, unknown> } {
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(raw);
    value = JSON.parse(text);
  } catch {
    throw new AppError('bad_request', 'The body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError('bad_request', 'The body must be a JSON object.');
  }
  return { text, value: value as Record<string, unknown> };
}

const rawOf = (req: FastifyRequest): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

function presentInbound(r: InboundRow, mask: boolean) {
  return {
    id: r.id,
    provider: r.provider,
    externalId: r.external_id,
    // WhatsApp senders are phone numbers (wa_id digits) or business-scoped user ids, Telegram
    // senders chat/user ids: masked in lists like outbox targets.
    sender: !mask
      ? r.sender
      : r.provider === 'whatsapp'
        ? maskTarget(/^\d+$/.test(r.sender) ? `+${r.sender}` : r.sender)
        : r.provider === 'telegram'
          ? maskTarget(r.sender, 'telegram')
          : r.sender,
    senderName: r.sender_name,
    type: r.type,
    text: r.text,
    sentAt: iso(r.sent_at),
    receivedAt: iso(r.received_at)!,
    processedAt: iso(r.processed_at)!,
  };
}

/**
 * Webhook endpoints (WhatsApp verify + signed POST, Telegram secret webhook) and the owner API of
 * the area (inbound list, Telegram link tokens). The webhook routes live in their own encapsulated
 * plugin whose only content-type parser keeps the raw bytes: the signature is computed over exactly
 * what the provider sent, and no other route sees raw bodies.
 */
export function webhookRoutes(app: FastifyInstance, ctx: HttpContext, hooks: WebhookRouteHooks = {}): void {
  const env = ctx.config.env;
  const limit = env.COMMS_WEBHOOK_BODY_LIMIT_BYTES;

  const store = async (reply: FastifyReply, provider: WebhookProvider, dedupeKey: string, text: string) => {
    // The body is stored verbatim (a configured secret value inside it would still be scrubbed).
    const r = await storeReceipt(ctx.db, { provider, dedupeKey, body: ctx.redactor.scrubSecrets(text) });
    // Stored is acknowledged: the answer leaves first, waking the processors follows it.
    void reply.code(200).send({ received: true, duplicate: r.duplicate });
    if (r.id) announceReceipt(ctx.db, r.id);
    return reply;
  };

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Fastify refuses a body over the limit (413) from Content-Length, or while reading it, before
    // any handler runs: no HMAC is ever computed over an oversized body.
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) =>
      done(null, body),
    );

    scope.get(
      '/webhooks/whatsapp',
      {
        config: {
          openapi: {
            summary: "Meta's webhook verification: answers hub.challenge when hub.verify_token matches",
            tags: ['webhooks'],
            auth: 'webhook',
            query: WhatsAppVerifyQuery,
            response: {
              status: 200,
              description: 'exactly hub.challenge, as text/plain',
              contentType: 'text/plain',
            },
            errors: ['webhook_verify_failed'],
          },
        },
      },
      async (req, reply) => {
        const q = (req.query ?? {}) as Record<string, unknown>;
        const mode = q['hub.mode'];
        const token = q['hub.verify_token'];
        const challenge = q['hub.challenge'];
        const configured = env.WHATSAPP_VERIFY_TOKEN;
        const tokenOk =
          safeEqual(typeof token === 'string' ? token : '', configured ?? '') && configured !== undefined;
        if (
          mode !== 'subscribe' ||
          !tokenOk ||
          typeof challenge !== 'string' ||
          !/^[\x21-\x7e]{1,512}$/.test(challenge)
        ) {
          throw new AppError('webhook_verify_failed', 'The webhook verification request did not match.');
        }
        return reply.code(200).type('text/plain; charset=utf-8').send(challenge);
      },
    );

    scope.post(
      '/webhooks/whatsapp',
      {
        bodyLimit: limit,
        config: {
          openapi: {
            summary:
              'WhatsApp Cloud API webhook (inbound messages, delivery statuses); X-Hub-Signature-256 over the raw body',
            tags: ['webhooks'],
            auth: 'webhook',
            body: WhatsAppWebhookBody,
            response: { status: 200, schema: WebhookAck },
            errors: ['invalid_signature', 'bad_request', 'payload_too_large'],
          },
        },
      },
      async (req, reply) => {
        const raw = rawOf(req);
        if (
          !verifyMetaSignature(raw, req.headers['x-hub-signature-256'], env.WHATSAPP_APP_SECRET, hooks.onHmac)
        ) {
          if (!env.WHATSAPP_APP_SECRET)
            req.log.warn('WhatsApp webhook refused: WHATSAPP_APP_SECRET is not configured');
          throw new AppError('invalid_signature', 'The X-Hub-Signature-256 signature did not verify.');
        }
        const { text } = parseRaw(raw);
        // Meta re-posts the same bytes when it retries: the body's hash is the delivery's identity
        // (messages and statuses inside are deduplicated again by their own ids).
        return store(reply, 'whatsapp', createHash('sha256').update(raw).digest('hex'), text);
      },
    );

    const telegram = async (req: FastifyRequest, reply: FastifyReply) => {
      const params = req.params as { secret?: string; '*'?: string };
      if (
        !verifyTelegramSecret(
          params.secret ?? params['*'],
          req.headers['x-telegram-bot-api-secret-token'],
          env.TELEGRAM_WEBHOOK_SECRET,
        )
      ) {
        // Which of the two secrets was wrong is not said.
        throw new AppError('invalid_signature', 'Unauthorized.');
      }
      const { text, value } = parseRaw(rawOf(req));
      const updateId = updateIdOf(value);
      if (updateId === null)
        throw new AppError('bad_request', 'The body is not a Telegram Update (no update_id).');
      return store(reply, 'telegram', updateId, text);
    };
    scope.post(
      '/telegram/webhook/:secret',
      {
        bodyLimit: limit,
        config: {
          openapi: {
            summary:
              'Telegram Bot API webhook; the path secret and X-Telegram-Bot-Api-Secret-Token must both match',
            tags: ['webhooks'],
            auth: 'webhook',
            body: TelegramUpdateBody,
            response: { status: 200, schema: WebhookAck },
            errors: ['invalid_signature', 'bad_request', 'payload_too_large'],
          },
        },
      },
      telegram,
    );
    // Secrets may be up to 256 characters, past the router's 100-character parameter limit: the
    // catch-all serves those (same handler, same checks).
    scope.post('/telegram/webhook/*', { bodyLimit: limit }, telegram);
  });

  route(
    app,
    'POST',
    '/api/v1/telegram/links',
    {
      preHandler: requireRole(ctx.principals, ['owner']),
      doc: {
        summary: 'Create a single-use Telegram link token (15 minutes) for the calling owner',
        tags: ['telegram'],
        auth: 'owner',
        body: TelegramLinkBody,
        bodyOptional: true,
        response: { status: 201, schema: TelegramLinkAnswer },
        errors: ['validation_failed', 'forbidden'],
      },
    },
    async (parsed, req, reply) => {
      const p = principalOf(req);
      // The body carries nothing yet; it is still validated (unknown fields are refused).
      void parsed.body;
      const link = await createLink(ctx.db, {
        tenantId: p.tenant.id,
        ownerSubject: p.subject,
        actor: actorName(p),
      });
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({
          token: link.token,
          url: deepLink(env.TELEGRAM_BOT_USERNAME, link.token),
          expiresAt: link.expiresAt.toISOString(),
        });
    },
  );

  route(
    app,
    'GET',
    '/api/v1/inbound',
    {
      preHandler: requireRole(ctx.principals, ['owner']),
      doc: {
        summary: 'Inbound WhatsApp and Telegram messages of the tenant, newest first (senders masked)',
        tags: ['inbound'],
        auth: 'owner',
        query: InboundQuery,
        response: { status: 200, schema: InboundPage },
        errors: ['validation_failed', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const f = parsed.query;
      const after = f.cursor === undefined ? null : decodeCursor(f.cursor);
      if (f.cursor !== undefined && !after)
        throw new AppError(
          'validation_failed',
          'The cursor is not valid; use nextCursor from a previous page.',
        );
      const page = await ctx.db.tx(
        (q) => listInbound(q, p.tenant.id, { provider: f.provider, limit: f.limit, after }),
        { tenantId: p.tenant.id },
      );
      return { items: page.items.map((r) => presentInbound(r, true)), nextCursor: page.nextCursor };
    },
  );

  route(
    app,
    'GET',
    '/api/v1/whatsapp/usage',
    {
      preHandler: requireRole(ctx.principals, ['owner']),
      doc: {
        summary:
          "The tenant's WhatsApp messages of one month by Meta pricing category and billable/free, with an estimate in AZN from the operator's price table",
        tags: ['inbound'],
        auth: 'owner',
        query: WhatsAppUsageQuery,
        response: { status: 200, schema: WhatsAppUsage },
        errors: ['validation_failed', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const f = parsed.query;
      const month = f.month ?? new Date().toISOString().slice(0, 7);
      const counts = await ctx.db.tx((q) => monthlyUsage(q, p.tenant.id, month), { tenantId: p.tenant.id });
      const prices = env.WHATSAPP_PRICE_TABLE_AZN ? parsePriceTable(env.WHATSAPP_PRICE_TABLE_AZN) : null;
      const est = prices instanceof Map ? estimateAzn(counts, prices) : null;
      const caps = env.WHATSAPP_MONTHLY_CAP ? parseCaps(env.WHATSAPP_MONTHLY_CAP) : null;
      const capOf = (tenant: string, used: number) => {
        const limit = caps instanceof Map ? caps.get(tenant) : undefined;
        return limit === undefined
          ? null
          : { limit, used, percent: limit > 0 ? Math.round((used / limit) * 1000) / 10 : 100 };
      };
      const sum = (billable: boolean) =>
        counts.filter((c) => c.billable === billable).reduce((n, c) => n + c.messages, 0);
      return {
        month,
        counts,
        totals: { billable: sum(true), free: sum(false) },
        estimate: {
          currency: 'AZN' as const,
          estimatedAzn: est?.estimatedAzn ?? null,
          unpricedCategories: est?.unpricedCategories ?? [],
        },
        cap: capOf(p.tenant.id, sum(true)),
      };
    },
  );

  route(
    app,
    'GET',
    '/api/v1/inbound/:id',
    {
      preHandler: requireRole(ctx.principals, ['owner']),
      doc: {
        summary: 'One inbound message with its sender and the provider payload',
        tags: ['inbound'],
        auth: 'owner',
        params: InboundParams,
        response: { status: 200, schema: InboundDetail },
        errors: ['not_found', 'validation_failed', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const { id } = parsed.params;
      const row = await ctx.db.tx((q) => getInbound(q, p.tenant.id, id), { tenantId: p.tenant.id });
      if (!row) throw new AppError('not_found', 'No such inbound message.');
      return { ...presentInbound(row, false), raw: row.raw };
    },
  );
}
