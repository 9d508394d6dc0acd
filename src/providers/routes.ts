import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ADAPTER_IDS } from '../core/channels.ts';
import { AppError, type ErrorCode } from '../core/errors.ts';
import { runVerification, VerifyUnsupportedError } from './verification.ts';
import { actorName, principalOf, requireRole } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { route } from '../http/route.ts';

const Params = z.object({ id: z.string().max(40) }).strict();

export const VerificationAnswer = z.object({
  adapter: z.enum(ADAPTER_IDS),
  at: z.string(),
  ok: z.boolean(),
  /** What was verified, or `<classified error code>: <scrubbed message>`. */
  detail: z.string(),
  errorCode: z.string().nullable(),
});

/**
 * POST /api/v1/providers/:id/verify — the on-demand credential check (owner only). The result is
 * kept for readiness ("verified at" or the classified error). It sends no message.
 */
export function providerRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const doc = {
    summary:
      'Check a provider credential on demand (Telegram getMe, WhatsApp phone number, Twilio service, SMTP verify, Firebase keys); readiness shows the result',
    tags: ['providers'],
    auth: 'owner' as const,
    params: Params,
    response: { status: 200, schema: VerificationAnswer },
    errors: [
      'validation_failed',
      'forbidden',
      'not_found',
      'verify_not_supported',
      'provider_not_configured',
    ] as ErrorCode[],
  };
  route(
    app,
    'POST',
    '/api/v1/providers/:id/verify',
    { preHandler: requireRole(ctx.principals, ['owner']), doc },
    async (parsed, req) => {
      const p = principalOf(req);
      const { id } = parsed.params;
      const adapterId = ADAPTER_IDS.find((a) => a === id);
      if (!adapterId)
        throw new AppError(
          'not_found',
          `No adapter "${id.replace(/[^a-z0-9_]/g, '')}". Adapters: ${ADAPTER_IDS.join(', ')}.`,
        );
      let outcome;
      try {
        // The check gets the provider timeout plus a little for DNS and TLS set-up.
        outcome = await runVerification(
          ctx.registry.get(adapterId),
          ctx.config.env.COMMS_PROVIDER_TIMEOUT_MS + 1_000,
          ctx.redactor,
        );
      } catch (err) {
        if (err instanceof VerifyUnsupportedError)
          throw new AppError('verify_not_supported', `${adapterId} has no credentials to check.`);
        throw err;
      }
      if (outcome.errorCode === 'provider_not_configured') {
        throw new AppError(
          'provider_not_configured',
          `${adapterId}: ${outcome.detail.replace(/^provider_not_configured: /, '')}.`,
        );
      }
      ctx.state.verifications.set(adapterId, { at: outcome.at, ok: outcome.ok, detail: outcome.detail });
      req.log.info(
        { adapter: adapterId, ok: outcome.ok, errorCode: outcome.errorCode, actor: actorName(p) },
        'provider credential check',
      );
      return outcome;
    },
  );
}
