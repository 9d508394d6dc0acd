import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../app/metrics.ts';
import type { Redactor } from '../core/redact.ts';

/**
 * The last line of defence: every outgoing body is scanned for configured secret values before it
 * leaves. A hit is replaced, counted and logged by variable name (never the value).
 */
export function installSecretGuard(app: FastifyInstance, redactor: Redactor, metrics: Metrics, logger: Logger): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (redactor.size === 0) return payload;
    let text: string | null = null;
    if (typeof payload === 'string') text = payload;
    else if (Buffer.isBuffer(payload)) text = payload.toString('utf8');
    if (text === null) return payload;
    const names = redactor.findNames(text);
    if (names.length === 0) return payload;
    for (const n of names) metrics.secretGuardHits.inc({ variable: n });
    logger.error({ reqId: req.id, variables: names, url: req.url }, 'secret guard replaced a secret value in a response');
    reply.removeHeader('content-length');
    return redactor.scrub(text);
  });
}
