import type { FastifyInstance } from 'fastify';
import { CHANNELS } from '../core/channels.ts';
import { PolicyBody } from '../outbox/schemas.ts';
import { tenantView } from '../store/tenants.ts';
import { actorName, principalOf, requireOperator, requireRole } from '../http/auth.ts';
import { createTenantWithOwner } from './operations.ts';
import { TenantBody } from './schemas.ts';
import type { HttpContext } from '../http/context.ts';
import { MeAnswer, PolicyAnswer, TenantCreated } from '../http/api-schemas.ts';
import { route } from '../http/route.ts';

function optInsOf(raw: Record<string, unknown>) {
  return Object.fromEntries(CHANNELS.map((c) => [c, raw[c] === true]));
}

export function tenantRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const owner = requireRole(ctx.principals, ['owner']);

  route(
    app,
    'GET',
    '/api/v1/me',
    {
      preHandler: requireRole(ctx.principals, ['owner', 'service', 'device']),
      doc: {
        summary: 'The caller: tenant, role and subject',
        tags: ['tenant'],
        auth: 'any_token',
        response: { status: 200, schema: MeAnswer },
      },
    },
    async (_parsed, req) => {
      const p = principalOf(req);
      const t = p.tenant;
      return {
        tenant: tenantView(t),
        role: p.role,
        subject: p.subject,
      };
    },
  );

  route(
    app,
    'GET',
    '/api/v1/tenant/policy',
    {
      preHandler: owner,
      doc: {
        summary: 'Channel opt-ins of the tenant',
        tags: ['tenant'],
        auth: 'owner',
        response: { status: 200, schema: PolicyAnswer },
        errors: ['forbidden'],
      },
    },
    async (_parsed, req) => {
      const p = principalOf(req);
      return { optIns: optInsOf(p.tenant.opt_ins) };
    },
  );

  route(
    app,
    'PUT',
    '/api/v1/tenant/policy',
    {
      preHandler: owner,
      doc: {
        summary: 'Change channel opt-ins (audited); waiting items are re-evaluated',
        tags: ['tenant'],
        auth: 'owner',
        body: PolicyBody,
        response: { status: 200, schema: PolicyAnswer },
        errors: ['validation_failed', 'forbidden', 'not_found'],
      },
    },
    async (parsed, req) => {
      const p = principalOf(req);
      const body = parsed.body;
      const { tenant, moved } = await ctx.outbox.updatePolicy(p.tenant, body.optIns, actorName(p));
      return { optIns: optInsOf(tenant.opt_ins), reevaluated: moved };
    },
  );

  route(
    app,
    'POST',
    '/api/v1/admin/tenants',
    {
      preHandler: requireOperator(ctx.config.env.COMMS_ADMIN_TOKEN),
      doc: {
        summary: 'Create a tenant and its first owner token (operator token)',
        tags: ['admin'],
        auth: 'operator',
        body: TenantBody,
        response: { status: 201, schema: TenantCreated },
        errors: ['validation_failed', 'invalid_phone', 'conflict'],
      },
    },
    async (_parsed, req, reply) => {
      return reply.code(201).send(await createTenantWithOwner(ctx.db, req.body, 'operator'));
    },
  );
}
