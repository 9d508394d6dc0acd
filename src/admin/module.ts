import type { ServiceModule } from '../kernel/module.ts';
import type { HttpContext } from '../http/context.ts';
import { requireOperator } from '../http/auth.ts';
import {
  addTenantDevice,
  addTenantOwnerPhone,
  listTenants,
  mapWhatsAppNumber,
  newTenantDeviceToken,
  removeTenantOwnerPhone,
} from './operations.ts';
import {
  DeviceAnswer,
  DeviceBody,
  DeviceParams,
  DeviceTokenAnswer,
  OwnerPhoneAnswer,
  OwnerPhoneBody,
  OwnerPhoneParams,
  TenantList,
  TenantParams,
  WhatsAppNumberAnswer,
  WhatsAppNumberBody,
  WhatsAppNumberParams,
} from './schemas.ts';
import { route } from '../http/route.ts';

const tags = ['admin'];
const ACTOR = 'operator';

/**
 * The operator API beside POST /api/v1/admin/tenants: everything the CLI does to a store, so the
 * CLI can do it through a running service instead of opening the store a second time.
 */
export function adminModule(): ServiceModule<unknown, HttpContext> {
  return {
    routes(app, ctx) {
      const operator = requireOperator(ctx.config.env.COMMS_ADMIN_TOKEN);
      const db = ctx.db;

      route(
        app,
        'GET',
        '/api/v1/admin/tenants',
        {
          preHandler: operator,
          doc: {
            summary: 'List the tenants (operator token)',
            tags,
            auth: 'operator',
            response: { status: 200, schema: TenantList },
          },
        },
        async (_parsed, _req) => listTenants(db),
      );

      route(
        app,
        'POST',
        '/api/v1/admin/tenants/:tenant/owner-phones',
        {
          preHandler: operator,
          doc: {
            summary: 'Give an owner of the tenant a phone to sign in with (operator token; audited)',
            tags,
            auth: 'operator',
            params: TenantParams,
            body: OwnerPhoneBody,
            response: { status: 201, schema: OwnerPhoneAnswer },
            errors: ['validation_failed', 'not_found', 'conflict'],
          },
        },
        async (_parsed, req, reply) =>
          reply.code(201).send(await addTenantOwnerPhone(db, req.params, req.body, ACTOR)),
      );

      route(
        app,
        'DELETE',
        '/api/v1/admin/tenants/:tenant/owner-phones/:phone',
        {
          preHandler: operator,
          doc: {
            summary: 'Take a sign-in phone away from the tenant (operator token; audited). Encode + as %2B',
            tags,
            auth: 'operator',
            params: OwnerPhoneParams,
            response: { status: 204, description: 'Removed' },
            errors: ['validation_failed', 'not_found'],
          },
        },
        async (_parsed, req, reply) => {
          await removeTenantOwnerPhone(db, req.params, ACTOR);
          return reply.code(204).send();
        },
      );

      route(
        app,
        'PUT',
        '/api/v1/admin/whatsapp/numbers/:phoneNumberId',
        {
          preHandler: operator,
          doc: {
            summary: 'Route WhatsApp webhooks of a phone_number_id to a tenant (operator token; audited)',
            tags,
            auth: 'operator',
            params: WhatsAppNumberParams,
            body: WhatsAppNumberBody,
            response: { status: 200, schema: WhatsAppNumberAnswer },
            errors: ['validation_failed', 'not_found'],
          },
        },
        async (_parsed, req) => mapWhatsAppNumber(db, req.params, req.body, ACTOR),
      );

      route(
        app,
        'POST',
        '/api/v1/admin/tenants/:tenant/devices',
        {
          preHandler: operator,
          doc: {
            summary: 'Register a LAN device of the tenant and get its token (operator token)',
            tags,
            auth: 'operator',
            params: TenantParams,
            body: DeviceBody,
            response: { status: 201, schema: DeviceAnswer },
            errors: ['validation_failed', 'not_found', 'device_exists'],
          },
        },
        async (_parsed, req, reply) =>
          reply.code(201).send(await addTenantDevice(db, req.params, req.body, ACTOR)),
      );

      route(
        app,
        'POST',
        '/api/v1/admin/tenants/:tenant/devices/:device/token',
        {
          preHandler: operator,
          doc: {
            summary:
              'Issue a new token for a device of the tenant; the old one stops working (operator token)',
            tags,
            auth: 'operator',
            params: DeviceParams,
            response: { status: 201, schema: DeviceTokenAnswer },
            errors: ['validation_failed', 'not_found'],
          },
        },
        async (_parsed, req, reply) => {
          const answer = await newTenantDeviceToken(db, req.params, ACTOR);
          // Close the device's open socket in whichever process holds it (as the owner route does).
          await db.notify(
            'lan_control',
            JSON.stringify({ k: 'revoke', t: answer.tenant, d: answer.id, r: 'token replaced' }),
          );
          return reply.code(201).send(answer);
        },
      );
    },
  };
}
