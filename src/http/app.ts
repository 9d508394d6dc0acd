import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import { commaList } from '../config/schema.ts';
import fastifyStatic from '@fastify/static';
import { randomUUID } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import type { HttpContext } from './context.ts';
import { sendError, toAppError } from './errors.ts';
import { installSecretContentGuard, installSecretGuard } from './secret-guard.ts';
import { buildOpenApi, collectRoutes } from './openapi.ts';
import { methodsForPath } from './method-not-allowed.ts';
import { installSecurityHeaders } from './security-headers.ts';

export const API_VERSION = '1.0.0';
import { outboxRoutes } from './routes/outbox.ts';
import { templateRoutes } from './routes/templates.ts';
import { tenantRoutes } from './routes/tenant.ts';
import { backupRoutes } from './routes/backup.ts';

/** Text PostgreSQL can store: well-formed Unicode (no lone surrogates) without NUL characters. */
function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes('\u0000');
}

function isStorableDeep(v: unknown, depth = 0): boolean {
  if (depth > 200) return false;
  if (typeof v === 'string') return isStorableText(v);
  if (Array.isArray(v)) return v.every((x) => isStorableDeep(x, depth + 1));
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    return Object.entries(v as Record<string, unknown>).every(
      ([k, x]) => isStorableText(k) && isStorableDeep(x, depth + 1),
    );
  }
  return true;
}

export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** A route module: registers its routes on the app. Other areas (LAN, OTP, webhooks) add theirs. */
export type RouteModule = (app: FastifyInstance, ctx: HttpContext) => void | Promise<void>;

export async function buildHttpApp(
  ctx: HttpContext,
  extraRoutes: readonly RouteModule[] = [],
): Promise<FastifyInstance> {
  const proxies = commaList(ctx.config.env.HTTP_TRUSTED_PROXIES);
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: ctx.config.env.COMMS_BODY_LIMIT_BYTES,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    // X-Forwarded-For counts only from the configured proxies; anyone else could forge it.
    trustProxy: proxies.length > 0 ? proxies : false,
    return503OnClosing: true,
  });
  app.decorateRequest('principal', null);
  const routes = collectRoutes(app);
  app.decorate('collectedRoutes', routes);

  // Cloudflare Turnstile's widget (a script and an iframe) when the sign-in page shows it.
  const turnstile = ctx.config.env.CLOUDFLARE_TURNSTILE_SITE_KEY ? ['https://challenges.cloudflare.com'] : [];
  installSecurityHeaders(app, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...turnstile],
        ...(turnstile.length ? { frameSrc: turnstile } : {}),
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
  const origins = commaList(ctx.config.env.COMMS_CORS_ORIGINS);
  // CORS stays closed unless the operator names origins.
  if (origins.length) await app.register(cors, { origin: origins, credentials: false });

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
  });
  installSecretGuard(app, ctx.redactor, ctx.metrics, ctx.logger);
  installSecretContentGuard(app, ctx.redactor);
  // Lone UTF-16 surrogates and NUL characters cannot be stored as PostgreSQL text: refuse them
  // before any route sees them.
  app.addHook('preValidation', async (req) => {
    for (const [part, value] of [
      ['body', req.body],
      ['query', req.query],
      ['path', req.params],
    ] as const) {
      if (value !== undefined && !isStorableDeep(value)) {
        throw new AppError(
          'bad_request',
          `The ${part} contains text that cannot be stored (a lone surrogate or a NUL character \\u0000).`,
        );
      }
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const e = toAppError(err, ctx.redactor);
    if (e.status >= 500) {
      req.log.error(
        {
          err: ctx.redactor.scrub(String((e.cause as Error | undefined)?.stack ?? e.cause ?? e.message)),
          code: e.code,
        },
        'request failed',
      );
    }
    return sendError(reply, req, e);
  });
  const allowed = methodsForPath(routes);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const methods = allowed(path);
    if (methods.length > 0 && !methods.includes(req.method)) {
      return sendError(
        reply,
        req,
        new AppError('method_not_allowed', `${path} takes ${methods.join(', ')}, not ${req.method}.`, {
          headers: { allow: methods.join(', ') },
        }),
      );
    }
    return sendError(reply, req, new AppError('not_found', `No route ${req.method} ${path}.`));
  });

  outboxRoutes(app, ctx);
  tenantRoutes(app, ctx);
  templateRoutes(app, ctx);
  backupRoutes(app, ctx);
  for (const m of extraRoutes) await m(app, ctx);
  let openapi: unknown = null;
  app.get('/openapi.json', async () => (openapi ??= buildOpenApi(routes, API_VERSION)));

  if (existsSync(WEB_DIST)) {
    await app.register(fastifyStatic, { root: WEB_DIST, prefix: '/', index: ['index.html'], wildcard: true });
  } else {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><title>MUPZAOS</title><p>The owner panel is not built. Run <code>npm run build</code>.</p>',
        ),
    );
  }
  return app;
}
