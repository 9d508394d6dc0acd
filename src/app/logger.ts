import pino, { type Logger } from 'pino';
import type { Redactor } from '../core/redact.ts';

/**
 * pino with two layers: redaction paths for known secret fields, and a final scrub of every
 * serialized line for any configured secret value (e.g. one echoed inside an error message).
 */
export function createLogger(opts: { level: string; redactor: Redactor; destination?: pino.DestinationStream }): Logger {
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
      hooks: { streamWrite: (line: string) => opts.redactor.scrub(line) },
    },
    opts.destination,
  );
}
