import helmet, { type HelmetOptions } from 'helmet';
import type { FastifyInstance } from 'fastify';

/**
 * The headers helmet sets for `options`, worked out once. They depend on the options alone (no
 * nonces are used), so building helmet's middleware and CSP string for every request, as the
 * Fastify plugin does, is CPU spent on each answer: during a flood of sign-ins that work is what a
 * kitchen screen's notification waits behind.
 */
export function securityHeaders(options: HelmetOptions): ReadonlyMap<string, string> {
  const headers = new Map<string, string>();
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
    },
  };
  let failed: unknown = null;
  helmet(options)({} as never, res as never, (err?: unknown) => {
    failed = err ?? null;
  });
  if (failed) throw failed instanceof Error ? failed : new Error(String(failed));
  return headers;
}

/** Every answer (API, pages, errors, 404s) carries the same security headers. */
export function installSecurityHeaders(app: FastifyInstance, options: HelmetOptions): void {
  const headers = Object.fromEntries(securityHeaders(options));
  app.addHook('onRequest', async (_req, reply) => {
    void reply.headers(headers);
  });
}
