import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSecretGuard } from '../../src/http/secret-guard.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { Metrics } from '../../src/kernel/metrics.ts';
import { createLogger } from '../../src/app/logger.ts';
import { LogCapture, createTestApp, type TestApp } from '../helpers/runtime.ts';
import { drivers } from '../helpers/db.ts';
import { CANARIES } from '../helpers/canary.ts';

describe('secret guard', () => {
  it('replaces a configured secret in any response body, counts it and logs the variable name only', async () => {
    const secret = 'guard-test-secret-value-42';
    const redactor = createRedactor({ WHATSAPP_APP_SECRET: secret });
    const metrics = new Metrics();
    const logs = new LogCapture();
    const logger = createLogger({ level: 'info', redactor, destination: logs });
    const app = Fastify();
    installSecretGuard(app, redactor, metrics, logger);
    app.get('/json', async () => ({ oops: `the secret is ${secret}` }));
    app.get('/text', async (_r, reply) => reply.type('text/plain').send(`x${secret}x`));
    const a = await app.inject({ method: 'GET', url: '/json' });
    expect(a.body).not.toContain(secret);
    expect(a.json()).toEqual({ oops: 'the secret is [REDACTED]' });
    const b = await app.inject({ method: 'GET', url: '/text' });
    expect(b.body).toBe('x[REDACTED]x');
    expect(await metrics.registry.getSingleMetricAsString('comms_secret_guard_hits_total')).toContain(
      'variable="WHATSAPP_APP_SECRET"} 2',
    );
    const joined = logs.lines.join('\n');
    expect(joined).toContain('WHATSAPP_APP_SECRET');
    expect(joined).not.toContain(secret);
    await app.close();
  });

  it('the logger scrubs secret values from any line, and redacts known secret fields', () => {
    const redactor = createRedactor({ TELEGRAM_BOT_TOKEN: '999:telegram-token-abc' });
    const logs = new LogCapture();
    const logger = createLogger({ level: 'info', redactor, destination: logs });
    logger.error(
      {
        err: 'fetch failed for https://api.telegram.org/bot999:telegram-token-abc/sendMessage',
        token: 'mz_owner_zzz',
      },
      'boom',
    );
    expect(logs.lines[0]).not.toContain('telegram-token-abc');
    expect(logs.lines[0]).not.toContain('mz_owner_zzz');
    expect(logs.lines[0]).toContain('[REDACTED]');
  });
});

for (const kind of await drivers()) {
  describe(`a message carrying a configured secret is refused [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind);
    });
    afterAll(() => app.close());

    it('answers 400 secret_in_content naming the variable, stores nothing', async () => {
      const res = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: { channel: 'email', target: 'a@example.az', body: `token: ${CANARIES.TELEGRAM_BOT_TOKEN}` },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'secret_in_content' });
      expect((res.json() as { message: string }).message).toContain('TELEGRAM_BOT_TOKEN');
      const n = await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
      expect(n.rows[0]!.n).toBe(0);
      const hits = await app.rt.metrics.registry.getSingleMetricAsString('comms_secret_guard_hits_total');
      expect(hits).not.toMatch(/variable=/);
    });
  });
}
