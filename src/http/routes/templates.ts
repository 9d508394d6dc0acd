import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CHANNELS } from '../../core/channels.ts';
import { LOCALES, templateCatalogue } from '../../core/templates.ts';
import { principalOf, requireRole } from '../auth.ts';
import type { HttpContext } from '../context.ts';
import { route } from '../route.ts';

const Rendered = z.object({ title: z.string(), subject: z.string(), body: z.string() });

export const TemplateCatalogue = z.object({
  templates: z.array(
    z.object({
      id: z.string().describe('The value of "template" in POST /api/v1/outbox'),
      description: z.string(),
      channels: z.array(z.enum(CHANNELS)).describe('Channels the template renders for'),
      locales: z.array(z.enum(LOCALES)),
      required: z.array(z.string()).describe('Data fields that must be given in "data"'),
      optional: z.array(z.string()).describe('Data fields used when given'),
      example: z.object({
        data: z.record(z.string(), z.unknown()).describe('Sample "data"'),
        rendered: z
          .object({ az: Rendered, ru: Rendered, en: Rendered })
          .describe("The sample rendered in each locale with the tenant's currency and time zone"),
      }),
    }),
  ),
});

/** GET /api/v1/templates — the template catalogue, so ids are not discovered from error messages. */
export function templateRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(
    app,
    'GET',
    '/api/v1/templates',
    {
      preHandler: requireRole(ctx.principals, ['owner', 'service']),
      doc: {
        summary: 'The message templates: ids, channels, locales, required data fields and a rendered example',
        tags: ['outbox'],
        auth: 'owner_or_service',
        response: { status: 200, schema: TemplateCatalogue },
        errors: ['forbidden'],
      },
    },
    async (_parsed, req) => {
      const { tenant } = principalOf(req);
      return { templates: templateCatalogue({ currency: tenant.currency, timeZone: tenant.timezone }) };
    },
  );
}
