import pino, { type Logger } from 'pino';
import { redactUrlQuery, type Redactor } from '../core/redact.ts';

/** The request fields Fastify logs, with credential-like query values redacted from the URL. */
interface LoggedRequest {
  method: string;
  url: string;
  ip?: string;
  host?: string;
  headers?: Record<string, unknown>;
  socket?: { remotePort?: number };
}

/**
 * pino with three layers: the request serializer redacts credential-like query values
 * (`?token=…`), redaction paths hide known secret fields, and a final scrub of every serialized
 * line hides any configured secret value (e.g. one echoed inside an error message).
 */
export function createLogger(opts: {
  level: string;
  redactor: Redactor;
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: opts.level,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-hub-signature-256"]',
          'req.headers["x-telegram-bot-api-secret-token"]',
          'req.headers.cookie',
          'token',
          'password',
          'secret',
          'idToken',
          '*.token',
          '*.password',
          '*.pass',
          '*.secret',
          '*.idToken',
        ],
        censor: '[REDACTED]',
      },
      // Fastify takes this `req` serializer over its own (same fields, URL redacted).
      serializers: {
        req: (req: LoggedRequest) => ({
          method: req.method,
          url: redactUrlQuery(req.url),
          version: req.headers?.['accept-version'],
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
      hooks: { streamWrite: (line: string) => opts.redactor.scrub(line) },
    },
    opts.destination,
  );
}
