import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { actorName, principalOf, requireRole } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { commaList } from '../config/schema.ts';
import { DEVICE_ID_RE } from '../core/devices.ts';
import { activeDevice as getDevice } from '../store/sql/lan-devices.ts';
import { appendAudit } from '../store/sql/audit.ts';
import {
  decideHeld,
  getPrinter,
  holdAfterMin,
  listHeld,
  listPrinters,
  printerQueues,
  setHoldAfterMin,
} from '../store/sql/printers.ts';
import { printerNetworks } from './address.ts';
import type { PrinterManager } from './manager.ts';
import { printerView, storePrinterSettings } from './register.ts';
import { PrinterPatchBody, PrinterView } from './schemas.ts';
import { route } from '../http/route.ts';

const DeviceId = z.string().regex(DEVICE_ID_RE, 'lowercase letters, digits, . _ - (max 64)');
const IdParams = z.object({ id: DeviceId });
const HeldParams = z.object({
  id: DeviceId,
  seq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  action: z.enum(['release', 'discard']),
});
const OutboxParams = z.object({ outboxId: z.uuid() });
const PatchBody = z
  .object({ name: z.string().trim().min(1).max(100).optional(), printer: PrinterPatchBody.optional() })
  .strict();
const ReprintBody = z.object({ printer: DeviceId.optional() }).strict();
const SettingsBody = z.object({ holdAfterMin: z.number().int().min(1).max(1440) }).strict();

export const Held = z.object({
  printer: z.string(),
  seq: z.number(),
  outboxId: z.string(),
  title: z.string().nullable(),
  createdAt: z.string(),
  reason: z.string().nullable(),
});
export const PrinterList = z.object({
  holdAfterMin: z.number(),
  printers: z.array(
    PrinterView.extend({
      id: z.string(),
      name: z.string(),
      state: z.enum(['unknown', 'online', 'offline']),
      reason: z.string().nullable(),
      stateSince: z.string(),
      waiting: z.number().describe('Tickets waiting to print (with the reason while offline)'),
      held: z.number(),
      unconfirmed: z.boolean().describe('confirm:"write": its prints are shown as unconfirmed'),
    }),
  ),
  held: z.array(Held),
});
const tags = ['lan'];

/** Printer settings, live state, held tickets and reprints (docs/printers.md). */
export function printerRoutes(
  app: FastifyInstance,
  ctx: HttpContext,
  manager: () => PrinterManager | null,
): void {
  const owner = requireRole(ctx.principals, ['owner']);
  const reader = requireRole(ctx.principals, ['owner', 'service']);
  const nets = printerNetworks(commaList(ctx.config.env.LAN_PRINTER_ALLOWED_NETWORKS));
  // A printer registered here is taken up at once (other processes see it at their next refresh).
  app.addHook('onResponse', async (req, reply) => {
    if (req.method === 'POST' && req.routeOptions.url === '/api/v1/lan/devices' && reply.statusCode === 201)
      void manager()?.refresh();
  });

  route(
    app,
    'PATCH',
    '/api/v1/lan/devices/:id',
    {
      preHandler: owner,
      doc: {
        summary:
          "Rename a device or change a printer's settings (address, columns, profile, backup, confirm, failoverAfterS)",
        tags,
        auth: 'owner',
        params: IdParams,
        body: PatchBody,
        response: {
          status: 200,
          schema: z.object({ id: z.string(), name: z.string(), printer: PrinterView.optional() }),
        },
        errors: ['validation_failed', 'not_found', 'printer_address_not_allowed', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const { id } = parsed.params;
      const body = parsed.body;
      const out = await ctx.db.tx(
        async (q) => {
          const dev = await getDevice(q, p.tenant.id, id);
          if (!dev) throw new AppError('not_found', 'No such device.');
          if (body.name !== undefined && body.name !== dev.name) {
            await q.query(
              'UPDATE lan_devices SET name = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2',
              [p.tenant.id, id, body.name],
            );
            await appendAudit(q, [
              {
                tenantId: p.tenant.id,
                entity: 'device',
                entityId: id,
                actor: actorName(p),
                action: 'renamed',
                reason: `renamed to "${body.name}"`,
              },
            ]);
          }
          if (body.printer) {
            if (dev.role !== 'printer')
              throw new AppError('validation_failed', 'printer: only a printer device has printer settings.');
            const cur = await getPrinter(q, p.tenant.id, id);
            // A printer registered without settings gets them here; the address is then required.
            if (!cur && body.printer.address === undefined)
              throw new AppError(
                'validation_failed',
                'printer.address: required for a printer without settings yet.',
              );
            const v = cur
              ? printerView(cur)
              : {
                  address: '',
                  columns: 48,
                  profile: 'epson-tm-t20iii',
                  backup: null,
                  confirm: 'status' as const,
                  failoverAfterS: 20,
                };
            const b = body.printer;
            await storePrinterSettings(
              q,
              p.tenant.id,
              id,
              {
                address: b.address ?? v.address,
                columns: b.columns ?? v.columns,
                profile: b.profile ?? v.profile,
                backup: b.backup === undefined ? v.backup : b.backup,
                confirm: b.confirm ?? v.confirm,
                failoverAfterS: b.failoverAfterS ?? v.failoverAfterS,
              },
              nets,
              actorName(p),
            );
          }
          const pr = await getPrinter(q, p.tenant.id, id);
          return { id, name: body.name ?? dev.name, ...(pr ? { printer: printerView(pr) } : {}) };
        },
        { tenantId: p.tenant.id },
      );
      void manager()?.refresh();
      return out;
    },
  );

  route(
    app,
    'GET',
    '/api/v1/lan/printers',
    {
      preHandler: reader,
      doc: {
        summary: 'Printers with their live state (online/offline and why), waiting and held tickets',
        tags,
        auth: 'owner_or_service',
        response: { status: 200, schema: PrinterList },
        errors: ['forbidden'],
      },
    },
    async (_parsed, req) => {
      const p = principalOf(req);
      const [rows, queues, held, hold] = await Promise.all([
        listPrinters(ctx.db, p.tenant.id),
        printerQueues(ctx.db, p.tenant.id),
        listHeld(ctx.db, p.tenant.id),
        holdAfterMin(ctx.db, p.tenant.id),
      ]);
      const m = manager();
      return {
        holdAfterMin: hold,
        printers: rows.map((r) => {
          const live = m?.liveState(r.tenant_id, r.device_id);
          const q = queues.get(r.device_id) ?? { waiting: 0, held: 0 };
          return {
            id: r.device_id,
            name: r.name,
            ...printerView(r),
            state: (live?.state ?? r.state) as 'unknown' | 'online' | 'offline',
            reason: live ? live.reason : r.reason,
            stateSince: new Date(r.state_since).toISOString(),
            waiting: q.waiting,
            held: q.held,
            unconfirmed: r.confirm === 'write',
          };
        }),
        held: held.map((h) => ({
          printer: h.printer,
          seq: h.seq,
          outboxId: h.outbox_id,
          title: h.title,
          createdAt: new Date(h.created_at).toISOString(),
          reason: h.reason,
        })),
      };
    },
  );

  route(
    app,
    'PUT',
    '/api/v1/lan/printers/settings',
    {
      preHandler: owner,
      doc: {
        summary:
          "The restaurant's printer settings: holdAfterMin (tickets older than this after an outage wait for staff)",
        tags,
        auth: 'owner',
        body: SettingsBody,
        response: { status: 200, schema: SettingsBody },
        errors: ['validation_failed', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const body = parsed.body;
      await ctx.db.tx((q) => setHoldAfterMin(q, p.tenant.id, body.holdAfterMin, actorName(p)), {
        tenantId: p.tenant.id,
      });
      return body;
    },
  );

  route(
    app,
    'POST',
    '/api/v1/lan/printers/:id/held/:seq/:action',
    {
      preHandler: owner,
      doc: {
        summary: 'Release (print now) or discard a held ticket; audited',
        tags,
        auth: 'owner',
        params: HeldParams,
        response: {
          status: 200,
          schema: z.object({
            printer: z.string(),
            seq: z.number(),
            status: z.enum(['released', 'discarded']),
          }),
        },
        errors: ['validation_failed', 'not_found', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const { id, seq, action } = parsed.params;
      const done = await ctx.db.tx((q) => decideHeld(q, p.tenant.id, id, seq, action, actorName(p)), {
        tenantId: p.tenant.id,
      });
      if (!done) throw new AppError('not_found', 'No such held ticket (released or discarded already?).');
      manager()?.kick(p.tenant.id, [id]);
      return {
        printer: id,
        seq,
        status: action === 'release' ? ('released' as const) : ('discarded' as const),
      };
    },
  );

  route(
    app,
    'POST',
    '/api/v1/lan/prints/:outboxId/reprint',
    {
      preHandler: owner,
      doc: {
        summary:
          'Print a LAN notification again, marked DUPLICATE / TƏKRAR / ДУБЛИКАТ (by the tenant locale); audited',
        tags,
        auth: 'owner',
        params: OutboxParams,
        body: ReprintBody,
        bodyOptional: true,
        response: { status: 200, schema: z.object({ printer: z.string(), confirmed: z.boolean() }) },
        errors: ['validation_failed', 'not_found', 'printer_unavailable', 'lan_unavailable', 'forbidden'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const { outboxId } = parsed.params;
      const body = parsed.body;
      const m = manager();
      if (!m) throw new AppError('lan_unavailable', 'The LAN hub is not running in this process.');
      return m.reprint(p.tenant.id, outboxId, body.printer, actorName(p));
    },
  );
}
