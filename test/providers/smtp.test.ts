import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/core/redact.ts';
import { createSmtpAdapter } from '../../src/providers/smtp.ts';
import { CANARIES } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, testConfig, waitFor, type TestApp } from '../helpers/runtime.ts';
import { LIVE_ENV, attemptsOf, enqueue, rowState, settled } from './helpers.ts';
import { startLoopbackSmtp, type LoopbackSmtp } from './smtp-server.ts';

const USER = 'mailer@mupzaos.az';
const FROM = 'MUPZAOS <noreply@mupzaos.az>';
const AZ = 'ə ğ ı ö ş ü ç Ə Ğ İ Ö Ş Ü Ç';
let smtp: LoopbackSmtp;
let seq = 0;
const freshTo = (tag: string) => `${tag}${++seq}@restoran.az`;

beforeAll(async () => {
  smtp = await startLoopbackSmtp({ user: USER, pass: CANARIES.SMTP_PASS! });
});
afterAll(() => smtp.close());

const smtpEnv = (port: number) => ({
  SMTP_HOST: '127.0.0.1',
  SMTP_PORT: String(port),
  SMTP_USER: USER,
  SMTP_FROM: FROM,
  SMTP_IGNORE_TLS: 'true',
});

describe('credential check (SMTP verify)', () => {
  it('verifies connection and AUTH; a wrong password is the classified 535', async () => {
    const good = testConfig(smtpEnv(smtp.port), { canaries: true });
    expect(await createSmtpAdapter({ config: good, redactor: createRedactor(good.secrets) }).verify!(AbortSignal.timeout(3_000))).toMatchObject({ ok: true });
    const bad = testConfig({ ...smtpEnv(smtp.port), SMTP_PASS: 'wrong-password' }, { canaries: true });
    expect(await createSmtpAdapter({ config: bad, redactor: createRedactor(bad.secrets) }).verify!(AbortSignal.timeout(3_000))).toMatchObject({ ok: false, errorCode: 'smtp_535' });
  });
});

for (const kind of await drivers()) {
  describe(`SMTP through the real dispatcher and a loopback SMTP server [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      // SMTP takes several round trips per message: a roomier timeout than the HTTP providers on 2 cores.
      app = await createTestApp(kind, { env: { ...LIVE_ENV, COMMS_PROVIDER_TIMEOUT_MS: '3000', ...smtpEnv(smtp.port) } });
    });
    afterAll(() => app.close());

    it('a message arrives with Message-ID from the outbox id, UTF-8 subject, text and HTML parts', async () => {
      const to = freshTo('owner');
      const id = await enqueue(app, { channel: 'email', target: to, subject: `Gündəlik hesabat — ${AZ}`, body: `Gəlir: 1 250,00 ₼\n<b>not markup</b> ${AZ}` });
      const s = await settled(app, id);
      expect(s).toMatchObject({ status: 'sent', attempts: 1 });
      const got = smtp.received.find((r) => r.envelopeTo.includes(to))!;
      expect(got).toBeDefined();
      const { mail } = got;
      expect(mail.messageId).toBe(`<outbox-${id}@mupzaos.az>`);
      expect(s.provider_message_id).toBe(mail.messageId);
      expect(mail.headers.get('x-mupza-outbox-id')).toBe(id);
      expect(mail.subject).toBe(`Gündəlik hesabat — ${AZ}`);
      expect(mail.from?.value).toEqual([{ name: 'MUPZAOS', address: 'noreply@mupzaos.az' }]);
      expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toBe(to);
      expect(mail.text?.trim()).toBe(`Gəlir: 1 250,00 ₼\n<b>not markup</b> ${AZ}`);
      expect(mail.html).toContain(`Gəlir: 1 250,00 ₼<br>&lt;b&gt;not markup&lt;/b&gt; ${AZ}`);
      // Both parts in one multipart/alternative, declared UTF-8.
      expect(got.raw).toMatch(/Content-Type: multipart\/alternative/i);
      expect(got.raw.match(/charset=utf-8/gi)?.length).toBeGreaterThanOrEqual(2);
    });

    it('a 451 reply is retried, then delivered once', async () => {
      const to = freshTo('retry');
      smtp.plan(to, [451]);
      const id = await enqueue(app, { channel: 'email', target: to, subject: 'Retry', body: 'second time lucky' });
      const done = await waitFor(async () => {
        const r = await rowState(app, id);
        return r.status === 'sent' ? r : null;
      }, 8_000);
      expect(done.attempts).toBe(2);
      const attempts = await attemptsOf(app, id);
      expect(attempts.map((a) => [a.outcome, a.error_code])).toEqual([
        ['retryable', 'smtp_451'],
        ['sent', null],
      ]);
      expect(smtp.received.filter((r) => r.envelopeTo.includes(to))).toHaveLength(1);
    });

    it('a 550 reply is dead after 1 attempt and nothing is delivered', async () => {
      const to = freshTo('gone');
      smtp.plan(to, [550]);
      const id = await enqueue(app, { channel: 'email', target: to, subject: 'Gone', body: 'no such mailbox' });
      const s = await settled(app, id);
      expect(s).toMatchObject({ status: 'dead', attempts: 1, last_error_code: 'smtp_550' });
      expect(s.reason).toContain('550');
      expect(await attemptsOf(app, id)).toHaveLength(1);
      expect(smtp.received.filter((r) => r.envelopeTo.includes(to))).toHaveLength(0);
    });
  });
}
