import type { FastifyInstance } from 'fastify';
import { computeReadiness } from './readiness.ts';
import { principalOf, requireRole } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { z } from 'zod';
import { AuthConfig, Readiness } from '../http/api-schemas.ts';
import { route } from '../http/route.ts';

export function systemRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(
    app,
    'GET',
    '/healthz',
    {
      doc: {
        summary: 'Liveness',
        tags: ['system'],
        auth: 'public',
        response: { status: 200, schema: z.object({ status: z.literal('ok') }) },
      },
    },
    async (_parsed, _req) => ({ status: 'ok' }),
  );

  route(
    app,
    'GET',
    '/readyz',
    {
      doc: {
        summary: 'Readiness probe: the database answers',
        tags: ['system'],
        auth: 'public',
        response: {
          status: 200,
          schema: z.object({ status: z.literal('ready'), store: z.enum(['pglite', 'postgres']) }),
        },
        errors: ['store_unavailable'],
      },
    },
    async (_parsed, _req, reply) => {
      const ok = await ctx.db.ping();
      return reply
        .code(ok ? 200 : 503)
        .send(
          ok
            ? { status: 'ready', store: ctx.db.kind }
            : { error: 'store_unavailable', message: 'The database is not reachable.' },
        );
    },
  );

  route(
    app,
    'GET',
    '/metrics',
    {
      doc: {
        summary: 'Prometheus metrics',
        tags: ['system'],
        auth: 'public',
        response: { status: 200, description: 'Prometheus text format', contentType: 'text/plain' },
      },
    },
    async (_parsed, _req, reply) => {
      try {
        const r = await ctx.db.query<{ status: string; channel: string; n: number }>(
          'SELECT status, channel, count(*)::int AS n FROM outbox GROUP BY status, channel',
        );
        ctx.metrics.rowsByStatus.reset();
        for (const row of r.rows)
          ctx.metrics.rowsByStatus.set({ status: row.status, channel: row.channel }, row.n);
      } catch {
        // Metrics still answer with what the process knows when the store is down.
      }
      return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
    },
  );

  route(
    app,
    'GET',
    '/api/v1/readiness',
    {
      preHandler: requireRole(ctx.principals, ['owner', 'service']),
      doc: {
        summary: 'Counts, the eight safety flags, contracts and adapters (env names configured yes/no)',
        tags: ['system'],
        auth: 'owner_or_service',
        response: { status: 200, schema: Readiness },
        errors: ['forbidden'],
      },
    },
    async (_parsed, req) => {
      const p = principalOf(req);
      return computeReadiness(
        {
          db: ctx.db,
          config: ctx.config,
          registry: ctx.registry,
          redactor: ctx.redactor,
          secretGuardInstalled: true,
          lanLaneSeparate: ctx.state.lanLaneSeparate,
          verifications: ctx.state.verifications,
          internet: ctx.state.internet?.() ?? 'unknown',
        },
        p.tenant,
      );
    },
  );

  route(
    app,
    'GET',
    '/api/v1/auth/config',
    {
      doc: {
        summary: 'Which sign-in methods are available (public config only)',
        tags: ['auth'],
        auth: 'public',
        response: { status: 200, schema: AuthConfig },
      },
    },
    async (_parsed, _req) => {
      const e = ctx.config.env;
      const firebase =
        e.OTP_PROVIDER === 'firebase' && e.NEXT_PUBLIC_FIREBASE_PROJECT_ID
          ? {
              apiKey: e.NEXT_PUBLIC_FIREBASE_API_KEY ?? null,
              authDomain: e.NEXT_PUBLIC_FIREBASE_AUTH_DOMAIN ?? null,
              projectId: e.NEXT_PUBLIC_FIREBASE_PROJECT_ID,
              appId: e.NEXT_PUBLIC_FIREBASE_APP_ID ?? null,
            }
          : null;
      // The sign-in page disables "send code" and says why when no code could be sent. The Turnstile
      // site key is public (it is in the page either way); the secret never leaves src/config.
      const adapter = e.OTP_PROVIDER === 'firebase' ? 'firebase_auth' : 'twilio_verify';
      const providerReady =
        e.OTP_PROVIDER !== undefined && ctx.registry.get(adapter).missingEnv().length === 0;
      const otpReady = providerReady || (ctx.config.runtime === 'qa' && ctx.config.otpTestNumbers.size > 0);
      const otpMissing = otpReady ? null : e.OTP_PROVIDER ? ('provider_env' as const) : ('provider' as const);
      return {
        otpProvider: e.OTP_PROVIDER ?? null,
        otpReady,
        otpMissing,
        runtime: ctx.config.runtime,
        firebase,
        turnstileSiteKey: e.CLOUDFLARE_TURNSTILE_SITE_KEY ?? null,
      };
    },
  );

  // Live status changes for the owner panel. fetch() + stream (needs the Authorization header).
  app.get(
    '/api/v1/events',
    {
      preHandler: requireRole(ctx.principals, ['owner', 'service']),
      config: {
        openapi: {
          summary: 'Server-sent events of outbox status changes',
          tags: ['outbox'],
          auth: 'owner_or_service',
          response: {
            status: 200,
            description: 'text/event-stream of {type:"outbox",id,status} and {type:"ping"}',
            contentType: 'text/event-stream',
          },
          errors: ['forbidden'],
        },
      },
    },
    (req, reply) => {
      const p = principalOf(req);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      const unsubscribe = ctx.events.subscribe((e) => {
        if (e.tenantId !== p.tenant.id) return;
        res.write(`data: ${JSON.stringify({ type: 'outbox', id: e.id, status: e.status })}\n\n`);
      });
      const ping = setInterval(() => res.write(`data: {"type":"ping"}\n\n`), 15_000);
      ping.unref();
      req.raw.on('close', () => {
        clearInterval(ping);
        unsubscribe();
      });
    },
  );
}
