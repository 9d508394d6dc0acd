import type { FastifyInstance } from 'fastify';
import { CHANNELS } from '../../core/channels.ts';
import { PolicyBody } from '../../outbox/schemas.ts';
import { tenantView } from '../../store/tenants.ts';
import { actorName, principalOf, requireRole } from '../auth.ts';
import type { HttpContext } from '../context.ts';
import { MeAnswer, PolicyAnswer } from '../api-schemas.ts';
import { route } from '../route.ts';

function optInsOf(raw: Record<string, unknown>) {
  return Object.fromEntries(CHANNELS.map((c) => [c, raw[c] === true]));
}

/** The owner's own tenant: who am I, and the channel opt-ins. */
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
}
