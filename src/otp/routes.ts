import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { OtpService } from './service.ts';
import { actorName, principalOf, requireRole } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { route } from '../http/route.ts';

const TenantId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a tenant id: lowercase letters, digits, _ and - (max 63)');
// Loose shape only; the phone is validated (E.164, libphonenumber) by the service with its own code.
const Phone = z.string().min(1).max(32);

export const OtpStartBody = z
  .object({
    phone: Phone.describe('E.164 phone of an owner, e.g. +994501234567'),
    tenant: TenantId.optional().describe(
      'Tenant to sign in to; "demo" (the default tenant of a single-restaurant box) when left out',
    ),
    turnstileToken: z
      .string()
      .min(1)
      .max(2048)
      .optional()
      .describe(
        'Cloudflare Turnstile token from the sign-in widget; required when CLOUDFLARE_TURNSTILE_SITE_KEY is set (checked with siteverify before anything else)',
      ),
  })
  .strict();
export const OtpCheckBody = z
  .object({
    verificationId: z.uuid().describe('From the start answer'),
    code: z
      .string()
      .regex(/^\d{4,10}$/, '4 to 10 digits')
      .describe('The code received by SMS'),
    tenant: TenantId.optional().describe('If given, must be the tenant the verification was started for'),
    phone: Phone.optional().describe('If given, must be the phone the verification was started for'),
  })
  .strict();
export const FirebaseBody = z
  .object({
    idToken: z
      .string()
      .min(1)
      .max(8_192)
      .describe('Firebase ID token from the client SDK after phone sign-in'),
    tenant: TenantId.optional().describe('Tenant to sign in to; "demo" when left out'),
  })
  .strict();

export const OtpStarted = z.object({ verificationId: z.uuid(), status: z.literal('pending') });
export const SessionAnswer = z.object({ token: z.string(), expiresAt: z.string() });

/** Owner sign-in: OTP start/check, Firebase ID token exchange, logout. */
export function otpRoutes(app: FastifyInstance, ctx: HttpContext, otp: OtpService): void {
  route(
    app,
    'POST',
    '/api/v1/auth/otp/start',
    {
      doc: {
        summary:
          'Send a sign-in code by SMS (Twilio Verify). Online only: refused at once, never queued. The same answer whether or not the phone is an owner',
        tags: ['auth'],
        auth: 'public',
        body: OtpStartBody,
        response: { status: 202, schema: OtpStarted },
        errors: [
          'validation_failed',
          'bad_request',
          'invalid_phone',
          'not_found',
          'turnstile_failed',
          'destination_not_allowed',
          'rate_limited',
          'turnstile_unavailable',
          'otp_unavailable',
          'store_unavailable',
          'internal_error',
        ],
      },
      // Past OTP_MAX_STARTS_IN_FLIGHT the start is refused before its body is read and validated:
      // in a flood most requests end here, and the less each costs, the less LAN work waits.
      onRequest: async () => {
        const busy = otp.shedStart();
        if (busy) throw busy;
      },
    },
    async (parsed, req, reply) => {
      const body = parsed.body;
      const r = await otp.start(
        {
          phone: body.phone,
          tenant: body.tenant ?? ctx.config.defaultTenant,
          turnstileToken: body.turnstileToken,
        },
        {
          ip: req.ip,
          host: req.hostname.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1') || null,
          elapsedMs: reply.elapsedTime,
        },
      );
      return reply.code(202).send(r);
    },
  );

  route(
    app,
    'POST',
    '/api/v1/auth/otp/check',
    {
      doc: {
        summary: 'Check a sign-in code; on approval an owner session (opaque bearer token with expiry)',
        tags: ['auth'],
        auth: 'public',
        body: OtpCheckBody,
        response: { status: 200, schema: SessionAnswer },
        errors: [
          'validation_failed',
          'bad_request',
          'not_found',
          'otp_invalid_code',
          'otp_expired',
          'forbidden',
          'otp_unavailable',
          'store_unavailable',
          'internal_error',
        ],
      },
    },
    async (parsed, _req, reply) => {
      const body = parsed.body;
      return otp.check(body, { elapsedMs: reply.elapsedTime });
    },
  );

  route(
    app,
    'POST',
    '/api/v1/auth/firebase',
    {
      doc: {
        summary: 'Exchange a Firebase phone sign-in ID token for an owner session',
        tags: ['auth'],
        auth: 'public',
        body: FirebaseBody,
        response: { status: 200, schema: SessionAnswer },
        errors: [
          'validation_failed',
          'bad_request',
          'not_found',
          'firebase_token_invalid',
          'firebase_token_expired',
          'firebase_wrong_audience',
          'firebase_wrong_issuer',
          'firebase_unknown_kid',
          'firebase_wrong_algorithm',
          'firebase_missing_phone',
          'firebase_keys_unavailable',
          'forbidden',
          'otp_unavailable',
          'store_unavailable',
          'internal_error',
        ],
      },
    },
    async (parsed, _req) => {
      const body = parsed.body;
      return otp.firebaseSignIn({ idToken: body.idToken, tenant: body.tenant ?? ctx.config.defaultTenant });
    },
  );

  route(
    app,
    'POST',
    '/api/v1/auth/logout',
    {
      preHandler: requireRole(ctx.principals, ['owner']),
      doc: {
        summary: 'Revoke the calling owner session',
        tags: ['auth'],
        auth: 'owner',
        response: { status: 204, description: 'The session is revoked' },
        errors: ['forbidden', 'conflict'],
      },
    },
    async (_parsed, req, reply) => {
      const p = principalOf(req);
      await otp.logout(p, actorName(p));
      return reply.code(204).send();
    },
  );
}
