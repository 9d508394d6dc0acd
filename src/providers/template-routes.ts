import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError, type ErrorCode } from '../core/errors.ts';
import { wabaIdOf } from '../config/config.ts';
import { syncWhatsAppTemplates } from './whatsapp-templates.ts';
import { listTemplates } from '../store/sql/wa-templates.ts';
import { actorName, principalOf, requireRole } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { route } from '../http/route.ts';

export const WhatsAppTemplateList = z.object({
  configured: z.boolean(),
  items: z.array(
    z.object({
      name: z.string(),
      language: z.string(),
      category: z.string(),
      status: z.string(),
      bodyParams: z.number().int(),
      syncedAt: z.string(),
    }),
  ),
});

/**
 * The business account's WhatsApp templates as last synced (GET), and a sync on demand (POST).
 * Owner only; the list is account-wide (the service sends from one business account).
 */
export function whatsappTemplateRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const list = async () => {
    const waba = wabaIdOf(ctx.config);
    const rows = waba ? await listTemplates(ctx.db, waba) : [];
    return {
      configured: waba !== null,
      items: rows.map((r) => ({ ...r, syncedAt: new Date(r.syncedAt).toISOString() })),
    };
  };
  app.get(
    '/api/v1/whatsapp/templates',
    {
      preHandler: requireRole(ctx.principals, ['owner']),
      config: {
        openapi: {
          summary:
            "The WhatsApp Business Account's message templates as last synced from Meta (name, language, category, status, body parameter count)",
          tags: ['providers'],
          auth: 'owner',
          response: { status: 200, schema: WhatsAppTemplateList },
          errors: ['forbidden'] as ErrorCode[],
        },
      },
    },
    list,
  );
  route(
    app,
    'POST',
    '/api/v1/whatsapp/templates/sync',
    {
      preHandler: requireRole(ctx.principals, ['owner']),
      doc: {
        summary:
          "Sync the WhatsApp Business Account's message templates from Meta now (also done daily); answers the new list",
        tags: ['providers'],
        auth: 'owner',
        response: { status: 200, schema: WhatsAppTemplateList },
        errors: ['forbidden', 'provider_not_configured', 'whatsapp_template_sync_failed'] as ErrorCode[],
      },
    },
    async (_parsed, req) => {
      if (!wabaIdOf(ctx.config))
        throw new AppError('provider_not_configured', 'Template sync needs WHATSAPP_BUSINESS_ACCOUNT_ID.');
      const synced = await syncWhatsAppTemplates(
        ctx.config,
        ctx.db,
        ctx.redactor,
        ctx.config.env.COMMS_PROVIDER_TIMEOUT_MS + 1_000,
      );
      req.log.info(
        { templates: synced.length, actor: actorName(principalOf(req)) },
        'whatsapp templates synced',
      );
      return list();
    },
  );
}
