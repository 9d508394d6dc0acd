import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { actorName, principalOf, requireRole } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { parseWith } from '../http/errors.ts';
import { SOURCE_RE } from '../outbox/schemas.ts';
import {
  DEVICE_ID_RE,
  DEVICE_ROLES,
  listDevices,
  registerDevice,
  revokeDevice,
  rotateDeviceToken,
} from './devices.ts';
import type { LanHub } from './hub.ts';
import { TokenBucket } from './rate-limit.ts';
import { PrinterSettingsBody, PrinterView } from '../printers/schemas.ts';
import { printerNetworks } from '../printers/address.ts';
import { storePrinterSettings } from '../printers/register.ts';
import { commaList } from '../config/schema.ts';
import { WS_PATH } from './protocol.ts';
import { createPairing, PAIRING_MAX_FAILURES, PAIRING_TTL_MS, redeemPairing } from './pairing.ts';

const DeviceId = z
  .string()
  .regex(DEVICE_ID_RE, 'lowercase letters, digits, . _ - (max 64), like pos-desktop-01');
const RegisterBody = z
  .object({
    id: DeviceId,
    role: z.enum(DEVICE_ROLES),
    name: z.string().trim().min(1).max(100),
    printer: PrinterSettingsBody.optional().describe(
      'For role printer: where and how the hub prints to it (docs/printers.md); without it its tickets wait',
    ),
  })
  .strict()
  .refine((b) => b.role === 'printer' || b.printer === undefined, {
    message: 'only a printer device has "printer" settings',
    path: ['printer'],
  });
const IdParams = z.object({ id: DeviceId });
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

// Answers, for the OpenAPI document.
const Registered = z.object({
  id: z.string(),
  role: z.enum(DEVICE_ROLES),
  name: z.string(),
  token: z.string().describe('Shown once; only its hash is stored'),
  printer: PrinterView.optional(),
});
const DeviceList = z.object({
  devices: z.array(
    z.object({
      id: z.string(),
      role: z.enum(DEVICE_ROLES),
      name: z.string(),
      createdAt: z.string(),
      lastSeenAt: z.string().nullable(),
      connected: z.boolean(),
    }),
  ),
});
const NewToken = z.object({
  id: z.string(),
  token: z.string().describe('Shown once; the old token stops working'),
});
const Enqueued = z.object({
  id: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  created: z.boolean(),
});
const PairingBody = z
  .object({
    role: z.enum(DEVICE_ROLES),
    name: z.string().trim().min(1).max(100),
    deviceId: DeviceId.optional(),
  })
  .strict();
const PairBody = z.object({ code: z.string().min(1).max(32) }).strict();
const PairingCreated = z.object({
  code: z.string().describe('8 characters, shown once; never listed back'),
  expiresAt: z.string(),
  url: z.string().describe('The device app with the code in the fragment (for a QR code)'),
});
const PairedDevice = z.object({
  deviceId: z.string(),
  role: z.enum(DEVICE_ROLES),
  name: z.string(),
  token: z.string().describe('The device token; shown once'),
});
const tags = ['lan'];

/** Pairing attempts per client address: bursts of 10, then one per 6 s. */
export const PAIR_RATE = { burst: 10, perSecond: 1 / 6 };
/** Client addresses remembered by the pairing rate limit (oldest forgotten first). */
const PAIR_CLIENTS_MAX = 10_000;

/** Notifications a device may post over HTTP: bursts of 20, 10 per second. */
export const DEVICE_POST_RATE = { burst: 20, perSecond: 10 };

/** Devices, device tokens and in_app notifications. The WebSocket itself is served by ws-server.ts. */
export function lanRoutes(
  app: FastifyInstance,
  ctx: HttpContext,
  hub: () => LanHub | null,
  postRate: { burst: number; perSecond: number } = DEVICE_POST_RATE,
): void {
  const owner = requireRole(ctx.principals, ['owner']);
  const reader = requireRole(ctx.principals, ['owner', 'service']);
  const sender = requireRole(ctx.principals, ['owner', 'service', 'device']);
  const buckets = new Map<string, TokenBucket>();
  const pingMs = ctx.config.env.LAN_PING_INTERVAL_MS;
  const printerNets = printerNetworks(commaList(ctx.config.env.LAN_PRINTER_ALLOWED_NETWORKS));

  const pairBuckets = new Map<string, TokenBucket>();

  app.post(
    '/api/v1/lan/pairings',
    {
      preHandler: owner,
      config: {
        openapi: {
          summary: `Create a single-use pairing code for a device (valid ${PAIRING_TTL_MS / 60_000} min, ${PAIRING_MAX_FAILURES} wrong tries kill it)`,
          tags,
          auth: 'owner',
          body: PairingBody,
          response: { status: 201, schema: PairingCreated },
          errors: ['validation_failed', 'not_found', 'forbidden'],
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const body = parseWith(PairingBody, req.body);
      const { code, expiresAt } = await ctx.db.tx(
        (q) =>
          createPairing(q, {
            tenantId: p.tenant.id,
            role: body.role,
            name: body.name,
            deviceId: body.deviceId,
            actor: actorName(p),
          }),
        { tenantId: p.tenant.id },
      );
      // In the fragment: browsers never send it, so the code stays out of access logs.
      const host = req.headers.host ?? `127.0.0.1:${ctx.config.env.PORT}`;
      const url = `${req.protocol}://${host}/device#code=${code}`;
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ code, expiresAt: expiresAt.toISOString(), url });
    },
  );

  app.post(
    '/api/v1/lan/pair',
    {
      config: {
        openapi: {
          summary:
            'Redeem a pairing code (no token; rate-limited per client address): registers the device and returns its token',
          tags,
          auth: 'public',
          body: PairBody,
          response: { status: 201, schema: PairedDevice },
          errors: ['validation_failed', 'pairing_code_invalid', 'rate_limited'],
        },
      },
    },
    async (req, reply) => {
      const client = req.ip;
      let b = pairBuckets.get(client);
      if (!b) {
        if (pairBuckets.size >= PAIR_CLIENTS_MAX) pairBuckets.delete(pairBuckets.keys().next().value!);
        pairBuckets.set(client, (b = new TokenBucket(PAIR_RATE.burst, PAIR_RATE.perSecond)));
      }
      if (!b.take()) {
        throw new AppError('rate_limited', 'Too many pairing attempts from this address; wait a little.', {
          headers: { 'retry-after': String(Math.max(1, Math.ceil(b.waitMs() / 1000))) },
        });
      }
      const body = parseWith(PairBody, req.body);
      const paired = await redeemPairing(ctx.db, body.code, client);
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ deviceId: paired.deviceId, role: paired.role, name: paired.name, token: paired.token });
    },
  );

  app.post(
    '/api/v1/lan/devices',
    {
      preHandler: owner,
      config: {
        openapi: {
          summary: 'Register a LAN device (pos, waiter, kitchen, printer) and get its token',
          tags,
          auth: 'owner',
          body: RegisterBody,
          response: { status: 201, schema: Registered },
          errors: ['validation_failed', 'device_exists', 'printer_address_not_allowed', 'forbidden'],
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const body = parseWith(RegisterBody, req.body);
      const printer = body.printer && { ...body.printer, backup: body.printer.backup ?? null };
      const { device, token } = await ctx.db.tx(
        async (q) => {
          const r = await registerDevice(q, {
            tenantId: p.tenant.id,
            id: body.id,
            role: body.role,
            name: body.name,
            actor: actorName(p),
          });
          if (printer)
            await storePrinterSettings(q, p.tenant.id, body.id, printer, printerNets, actorName(p));
          return r;
        },
        { tenantId: p.tenant.id },
      );
      return reply.code(201).send({
        id: device.id,
        role: device.role,
        name: device.name,
        token,
        ...(printer ? { printer } : {}),
      });
    },
  );

  app.get(
    '/api/v1/lan/devices',
    {
      preHandler: reader,
      config: {
        openapi: {
          summary: 'Registered devices with presence (connected to any hub process)',
          tags,
          auth: 'owner_or_service',
          response: { status: 200, schema: DeviceList },
          errors: ['forbidden'],
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const rows = await listDevices(ctx.db, p.tenant.id);
      const h = hub();
      // Presence written by whichever process holds the socket; stale after three missed heartbeats.
      const freshAfter = Date.now() - 3 * pingMs;
      return {
        devices: rows.map((d) => ({
          id: d.id,
          role: d.role,
          name: d.name,
          createdAt: new Date(d.created_at).toISOString(),
          lastSeenAt: d.last_seen_at ? new Date(d.last_seen_at).toISOString() : null,
          connected:
            (h?.isConnected(p.tenant.id, d.id) ?? false) ||
            (d.connected_hub !== null &&
              d.last_seen_at !== null &&
              new Date(d.last_seen_at).getTime() > freshAfter),
        })),
      };
    },
  );

  app.delete(
    '/api/v1/lan/devices/:id',
    {
      preHandler: owner,
      config: {
        openapi: {
          summary: 'Revoke a device: its token stops working and its open socket closes within 5 s',
          tags,
          auth: 'owner',
          params: IdParams,
          response: { status: 204, description: 'Revoked' },
          errors: ['not_found', 'validation_failed', 'forbidden'],
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { id } = parseWith(IdParams, req.params);
      const done = await ctx.db.tx((q) => revokeDevice(q, p.tenant.id, id, actorName(p)), {
        tenantId: p.tenant.id,
      });
      if (!done) throw new AppError('not_found', 'No such device.');
      await disconnect(p.tenant.id, id, 'device revoked');
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/lan/devices/:id/token',
    {
      preHandler: owner,
      config: {
        openapi: {
          summary: 'Issue a new token for a device (the old one stops working; the inbox is kept)',
          tags,
          auth: 'owner',
          params: IdParams,
          response: { status: 201, schema: NewToken },
          errors: ['not_found', 'validation_failed', 'forbidden'],
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { id } = parseWith(IdParams, req.params);
      const token = await ctx.db.tx((q) => rotateDeviceToken(q, p.tenant.id, id, actorName(p)), {
        tenantId: p.tenant.id,
      });
      await disconnect(p.tenant.id, id, 'token replaced');
      return reply.code(201).send({ id, token });
    },
  );

  app.post(
    '/api/v1/lan/notifications',
    {
      preHandler: sender,
      config: {
        openapi: {
          summary:
            'Notify one device or every device of a role (an in_app outbox row); devices may call it too',
          tags,
          auth: 'any_token',
          body: NotificationBody,
          response: { status: 202, schema: Enqueued },
          errors: ['validation_failed', 'idempotency_conflict', 'conflict', 'rate_limited', 'invalid_target'],
        },
      },
    },
    async (req, reply) => {
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
      const body = parseWith(NotificationBody, req.body);
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

  async function disconnect(tenantId: string, deviceId: string, reason: string): Promise<void> {
    const h = hub();
    if (h) await h.disconnectDevice(tenantId, deviceId, reason);
    else
      await ctx.db.notify(
        'lan_control',
        JSON.stringify({ k: 'revoke', t: tenantId, d: deviceId, r: reason }),
      );
  }
}
