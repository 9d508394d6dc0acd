import type { FastifyInstance } from 'fastify';
import { requireOperator } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { TenantCreated } from '../http/api-schemas.ts';
import { route } from '../http/route.ts';
import { createTenantWithOwner } from './operations.ts';
import { TenantBody } from './schemas.ts';

/**
 * POST /api/v1/admin/tenants: every process serves it (the composition root registers it beside
 * the system routes), with or without the rest of the operator API.
 */
export function tenantAdminRoutes(app: FastifyInstance, ctx: HttpContext): void {
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
