import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CHANNELS } from '../../core/channels.ts';
import { AppError } from '../../core/errors.ts';
import { safeEqual } from '../../core/secret-compare.ts';
import { PolicyBody } from '../../outbox/schemas.ts';
import { normalizeE164 } from '../../core/target.ts';
import { DEFAULT_OTP_PREFIXES, ownerPhoneProblem, setupOwnerLogin } from '../../otp/owners.ts';
import { createTenant } from '../../store/tenants.ts';
import { newToken, storeToken } from '../../store/tokens.ts';
import { actorName, bearerMissing, bearerOf, principalOf, requireRole } from '../auth.ts';
import type { HttpContext } from '../context.ts';
import { parseWith } from '../errors.ts';
import { MeAnswer, PolicyAnswer, TenantCreated } from '../api-schemas.ts';

const TenantBody = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, _ and - (max 63)'),
    name: z.string().min(1).max(200),
    country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2, e.g. AZ'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217, e.g. AZN'),
    timezone: z.string().min(1).max(64).default('Asia/Baku'),
    locale: z.enum(['az', 'ru', 'en']).default('az'),
    ownerPhone: z.string().min(1).max(32).optional().describe('E.164 phone the first owner signs in with by OTP or Firebase; opts the tenant in to otp_sms'),
    otpAllowedPrefixes: z.array(z.string().regex(/^\+[1-9]\d{0,5}$/, 'a dialling prefix like +994')).min(1).max(20).optional().describe('OTP destination allow-list (default +994)'),
  })
  .strict();

function optInsOf(raw: Record<string, unknown>) {
  return Object.fromEntries(CHANNELS.map((c) => [c, raw[c] === true]));
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function tenantRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const owner = requireRole(ctx.principals, ['owner']);

  app.get('/api/v1/me', { preHandler: requireRole(ctx.principals, ['owner', 'service', 'device']), config: { openapi: { summary: 'The caller: tenant, role and subject', tags: ['tenant'], auth: 'any_token', response: { status: 200, schema: MeAnswer } } } }, async (req) => {
    const p = principalOf(req);
    const t = p.tenant;
    return {
      tenant: { id: t.id, name: t.name, country: t.country, currency: t.currency, timezone: t.timezone, locale: t.locale },
      role: p.role,
      subject: p.subject,
    };
  });

  app.get('/api/v1/tenant/policy', { preHandler: owner, config: { openapi: { summary: 'Channel opt-ins of the tenant', tags: ['tenant'], auth: 'owner', response: { status: 200, schema: PolicyAnswer }, errors: ['forbidden'] } } }, async (req) => {
    const p = principalOf(req);
    return { optIns: optInsOf(p.tenant.opt_ins) };
  });

  app.put('/api/v1/tenant/policy', { preHandler: owner, config: { openapi: { summary: 'Change channel opt-ins (audited); waiting items are re-evaluated', tags: ['tenant'], auth: 'owner', body: PolicyBody, response: { status: 200, schema: PolicyAnswer }, errors: ['validation_failed', 'forbidden', 'not_found'] } } }, async (req) => {
    const p = principalOf(req);
    const body = parseWith(PolicyBody, req.body);
    const { tenant, moved } = await ctx.outbox.updatePolicy(p.tenant, body.optIns, actorName(p));
    return { optIns: optInsOf(tenant.opt_ins), reevaluated: moved };
  });

  app.post('/api/v1/admin/tenants', { config: { openapi: { summary: 'Create a tenant and its first owner token (operator token)', tags: ['admin'], auth: 'operator', body: TenantBody, response: { status: 201, schema: TenantCreated }, errors: ['validation_failed', 'invalid_phone', 'conflict'] } } }, async (req, reply) => {
    const admin = ctx.config.env.COMMS_ADMIN_TOKEN;
    const token = bearerOf(req);
    if (!admin || !token || !safeEqual(token, admin)) {
      throw new AppError('unauthorized', bearerMissing(req) ? 'The operator token (COMMS_ADMIN_TOKEN) is required.' : 'The operator token is not valid.');
    }
    const body = parseWith(TenantBody, req.body);
    if (!validTimeZone(body.timezone)) throw new AppError('validation_failed', 'timezone: not a known IANA time zone');
    const { ownerPhone: rawPhone, otpAllowedPrefixes, ...tenantFields } = body;
    const ownerPhone = rawPhone === undefined ? undefined : normalizeE164(rawPhone);
    const phoneProblem = ownerPhone && ownerPhoneProblem(ownerPhone, otpAllowedPrefixes ?? DEFAULT_OTP_PREFIXES);
    if (phoneProblem) throw new AppError('validation_failed', phoneProblem, { details: { field: 'ownerPhone' } });
    const ownerToken = newToken('owner');
    const tenant = await ctx.db.tx(async (q) => {
      // An owner phone is given for OTP sign-in, so the tenant is opted in to otp_sms with it.
      const t = await createTenant(q, { ...tenantFields, optIns: { in_app: true, ...(ownerPhone ? { otp_sms: true } : {}) } }, 'operator');
      if (!t) return null;
      await storeToken(q, { token: ownerToken, tenantId: t.id, role: 'owner', subject: `${t.id}-owner`, label: 'created by operator' });
      await setupOwnerLogin(q, { tenantId: t.id, ownerId: `${t.id}-owner`, phone: ownerPhone, prefixes: otpAllowedPrefixes, actor: 'operator' });
      return t;
    });
    if (!tenant) throw new AppError('conflict', `A tenant with id "${body.id}" already exists.`);
    return reply.code(201).send({
      tenant: { id: tenant.id, name: tenant.name, country: tenant.country, currency: tenant.currency, timezone: tenant.timezone, locale: tenant.locale },
      ownerToken,
    });
  });
}
