import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { Logger } from 'pino';
import type { Metrics } from '../kernel/metrics.ts';
import { redactUrlQuery, type Redactor } from '../core/redact.ts';

/**
 * The last line of defence: every outgoing body is scanned for configured secret values before it
 * leaves. A hit is replaced, counted and logged by variable name (never the value).
 */
export function installSecretGuard(
  app: FastifyInstance,
  redactor: Redactor,
  metrics: Metrics,
  logger: Logger,
): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (redactor.size === 0) return payload;
    let text: string | null = null;
    if (typeof payload === 'string') text = payload;
    else if (Buffer.isBuffer(payload)) text = payload.toString('utf8');
    if (text === null) return payload;
    const names = redactor.findNames(text);
    if (names.length === 0) return payload;
    for (const n of names) metrics.secretGuardHits.inc({ variable: n });
    logger.error(
      { reqId: req.id, variables: names, url: redactUrlQuery(req.url) },
      'secret guard replaced a secret value in a response',
    );
    reply.removeHeader('content-length');
    return redactor.scrub(text);
  });
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The first line of defence: owner-supplied text that carries a configured secret (a device named
 * with the webhook secret, a policy note holding a token) is refused with `secret_in_content`
 * before any route stores it or writes it to the audit trail. It is added to every write route
 * registered after this call (onRoute), behind the route's own authentication, so routes added
 * later are covered without a line of their own. Raw bodies (signed webhooks) are provider text,
 * parsed as buffers, and left to their routes.
 */
export function installSecretContentGuard(app: FastifyInstance, redactor: Redactor): void {
  const guard: preHandlerAsyncHookHandler = async (req) => {
    const body = req.body;
    if (body === undefined || body === null || Buffer.isBuffer(body)) return;
    const names = redactor.findSecretNames(typeof body === 'string' ? body : JSON.stringify(body));
    if (names.length) {
      throw new AppError(
        'secret_in_content',
        `The request contains the value of ${names.join(', ')}; it was not accepted.`,
      );
    }
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => WRITE_METHODS.has(m.toUpperCase()))) return;
    const own =
      route.preHandler === undefined
        ? []
        : Array.isArray(route.preHandler)
          ? route.preHandler
          : [route.preHandler];
    route.preHandler = [...own, guard];
  });
}
