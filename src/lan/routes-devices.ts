import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { actorName, principalOf, requireRole } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { PrinterSettingsBody, PrinterView } from '../printers/schemas.ts';
import { printerNetworks } from '../printers/address.ts';
import { storePrinterSettings } from '../printers/register.ts';
import { commaList } from '../config/schema.ts';
import { DEVICE_ROLES, listDevices, registerDevice, revokeDevice, rotateDeviceToken } from './devices.ts';
import { CONTROL_CHANNEL } from './hub-control.ts';
import type { LanHub } from './hub.ts';
import { DeviceId, tags } from './route-schemas.ts';
import { route } from '../http/route.ts';

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

// Answers, for the OpenAPI document.
const Registered = z.object({
  id: z.string(),
  role: z.enum(DEVICE_ROLES),
  name: z.string(),
  token: z.string().describe('Shown once; only its hash is stored'),
  printer: PrinterView.optional(),
});
export const DeviceList = z.object({
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

/** Device administration: register, list with presence, revoke, rotate a token. */
export function deviceRoutes(app: FastifyInstance, ctx: HttpContext, hub: () => LanHub | null): void {
  const owner = requireRole(ctx.principals, ['owner']);
  const reader = requireRole(ctx.principals, ['owner', 'service']);
  const pingMs = ctx.config.env.LAN_PING_INTERVAL_MS;
  const printerNets = printerNetworks(commaList(ctx.config.env.LAN_PRINTER_ALLOWED_NETWORKS));

  route(
    app,
    'POST',
    '/api/v1/lan/devices',
    {
      preHandler: owner,
      doc: {
        summary: 'Register a LAN device (pos, waiter, kitchen, printer) and get its token',
        tags,
        auth: 'owner',
        body: RegisterBody,
        response: { status: 201, schema: Registered },
        errors: ['validation_failed', 'device_exists', 'printer_address_not_allowed', 'forbidden'],
      },
    },
    async (parsed, req, reply) => {
      const p = principalOf(req);
      const body = parsed.body;
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

  route(
    app,
    'GET',
    '/api/v1/lan/devices',
    {
      preHandler: reader,
      doc: {
        summary: 'Registered devices with presence (connected to any hub process)',
        tags,
        auth: 'owner_or_service',
        response: { status: 200, schema: DeviceList },
        errors: ['forbidden'],
      },
    },
    async (_parsed, req) => {
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

  route(
    app,
    'DELETE',
    '/api/v1/lan/devices/:id',
    {
      preHandler: owner,
      doc: {
        summary: 'Revoke a device: its token stops working and its open socket closes within 5 s',
        tags,
        auth: 'owner',
        params: IdParams,
        response: { status: 204, description: 'Revoked' },
        errors: ['not_found', 'validation_failed', 'forbidden'],
      },
    },
    async (parsed, req, reply) => {
      const p = principalOf(req);
      const { id } = parsed.params;
      const done = await ctx.db.tx((q) => revokeDevice(q, p.tenant.id, id, actorName(p)), {
        tenantId: p.tenant.id,
      });
      if (!done) throw new AppError('not_found', 'No such device.');
      await disconnect(p.tenant.id, id, 'device revoked');
      return reply.code(204).send();
    },
  );

  route(
    app,
    'POST',
    '/api/v1/lan/devices/:id/token',
    {
      preHandler: owner,
      doc: {
        summary: 'Issue a new token for a device (the old one stops working; the inbox is kept)',
        tags,
        auth: 'owner',
        params: IdParams,
        response: { status: 201, schema: NewToken },
        errors: ['not_found', 'validation_failed', 'forbidden'],
      },
    },
    async (parsed, req, reply) => {
      const p = principalOf(req);
      const { id } = parsed.params;
      const token = await ctx.db.tx((q) => rotateDeviceToken(q, p.tenant.id, id, actorName(p)), {
        tenantId: p.tenant.id,
      });
      await disconnect(p.tenant.id, id, 'token replaced');
      return reply.code(201).send({ id, token });
    },
  );

  async function disconnect(tenantId: string, deviceId: string, reason: string): Promise<void> {
    const h = hub();
    if (h) await h.disconnectDevice(tenantId, deviceId, reason);
    else
      await ctx.db.notify(
        CONTROL_CHANNEL,
        JSON.stringify({ k: 'revoke', t: tenantId, d: deviceId, r: reason }),
      );
  }
}
