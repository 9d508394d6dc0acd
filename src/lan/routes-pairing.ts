import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { actorName, principalOf, requireRole } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { DEVICE_ROLES } from './devices.ts';
import { createPairing, PAIRING_MAX_FAILURES, PAIRING_TTL_MS, redeemPairing } from './pairing.ts';
import { TokenBucket } from './rate-limit.ts';
import { DeviceId, tags } from './route-schemas.ts';
import { route } from '../http/route.ts';

const PairingBody = z
  .object({
    role: z.enum(DEVICE_ROLES),
    name: z.string().trim().min(1).max(100),
    deviceId: DeviceId.optional(),
  })
  .strict();
const PairBody = z.object({ code: z.string().min(1).max(32) }).strict();
const PairingCreated = z.object({
  code: z.string().describe('8 characters, shown once; never listed back'),
  expiresAt: z.string(),
  url: z.string().describe('The device app with the code in the fragment (for a QR code)'),
});
const PairedDevice = z.object({
  deviceId: z.string(),
  role: z.enum(DEVICE_ROLES),
  name: z.string(),
  token: z.string().describe('The device token; shown once'),
});

/** Pairing attempts per client address: bursts of 10, then one per 6 s. */
export const PAIR_RATE = { burst: 10, perSecond: 1 / 6 };
/** Client addresses remembered by the pairing rate limit (oldest forgotten first). */
const PAIR_CLIENTS_MAX = 10_000;

/** Pairing codes: the owner creates one, a new device redeems it for its token. */
export function pairingRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const owner = requireRole(ctx.principals, ['owner']);
  const pairBuckets = new Map<string, TokenBucket>();

  route(
    app,
    'POST',
    '/api/v1/lan/pairings',
    {
      preHandler: owner,
      doc: {
        summary: `Create a single-use pairing code for a device (valid ${PAIRING_TTL_MS / 60_000} min, ${PAIRING_MAX_FAILURES} wrong tries kill it)`,
        tags,
        auth: 'owner',
        body: PairingBody,
        response: { status: 201, schema: PairingCreated },
        errors: ['validation_failed', 'not_found', 'forbidden'],
      },
    },
    async (parsed, req, reply) => {
      const p = principalOf(req);
      const body = parsed.body;
      const { code, expiresAt } = await ctx.db.tx(
        (q) =>
          createPairing(q, {
            tenantId: p.tenant.id,
            role: body.role,
            name: body.name,
            deviceId: body.deviceId,
            actor: actorName(p),
          }),
        { tenantId: p.tenant.id },
      );
      // In the fragment: browsers never send it, so the code stays out of access logs.
      const host = req.headers.host ?? `127.0.0.1:${ctx.config.env.PORT}`;
      const url = `${req.protocol}://${host}/device#code=${code}`;
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ code, expiresAt: expiresAt.toISOString(), url });
    },
  );

  route(
    app,
    'POST',
    '/api/v1/lan/pair',
    {
      doc: {
        summary:
          'Redeem a pairing code (no token; rate-limited per client address): registers the device and returns its token',
        tags,
        auth: 'public',
        body: PairBody,
        response: { status: 201, schema: PairedDevice },
        errors: ['validation_failed', 'pairing_code_invalid', 'rate_limited'],
      },
    },
    async (parsed, req, reply) => {
      const client = req.ip;
      let b = pairBuckets.get(client);
      if (!b) {
        if (pairBuckets.size >= PAIR_CLIENTS_MAX) pairBuckets.delete(pairBuckets.keys().next().value!);
        pairBuckets.set(client, (b = new TokenBucket(PAIR_RATE.burst, PAIR_RATE.perSecond)));
      }
      if (!b.take()) {
        throw new AppError('rate_limited', 'Too many pairing attempts from this address; wait a little.', {
          headers: { 'retry-after': String(Math.max(1, Math.ceil(b.waitMs() / 1000))) },
        });
      }
      const body = parsed.body;
      const paired = await redeemPairing(ctx.db, body.code, client);
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ deviceId: paired.deviceId, role: paired.role, name: paired.name, token: paired.token });
    },
  );
}
