import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/core/redact.ts';
import { createSmtpAdapter } from '../../src/providers/smtp.ts';
import type { ProviderAdapter } from '../../src/providers/types.ts';
import type { OutboxRow } from '../../src/store/rows.ts';
import { CANARIES } from '../helpers/canary.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, testConfig, waitFor, type TestApp } from '../helpers/runtime.ts';
import { LIVE_ENV, attemptsOf, cancelIfFailed, closedPort, enqueue, rowState, settled } from './helpers.ts';
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
    expect(
      await createSmtpAdapter({ config: good, redactor: createRedactor(good.secrets) }).verify!(
        AbortSignal.timeout(3_000),
      ),
    ).toMatchObject({ ok: true });
    const bad = testConfig({ ...smtpEnv(smtp.port), SMTP_PASS: 'wrong-password' }, { canaries: true });
    expect(
      await createSmtpAdapter({ config: bad, redactor: createRedactor(bad.secrets) }).verify!(
        AbortSignal.timeout(3_000),
      ),
    ).toMatchObject({ ok: false, errorCode: 'smtp_535' });
  });
});

const TENANT = { id: 'acme', locale: 'az', timezone: 'Asia/Baku', currency: 'AZN' };
let rowSeq = 0;
/** A row for calling the adapter directly (the dispatcher tests below go through the outbox). */
const emailRow = (to: string): OutboxRow =>
  ({
    id: `00000000-0000-4000-8000-${String(++rowSeq).padStart(12, '0')}`,
    tenant_id: 'acme',
    channel: 'email',
    target: to,
    title: null,
    subject: 'S',
    body: 'direct',
    template: null,
    data: null,
    locale: 'az',
  }) as OutboxRow;
const adapterFor = (env: Record<string, string>): ProviderAdapter => {
  const config = testConfig(env, { canaries: true });
  return createSmtpAdapter({ config, redactor: createRedactor(config.secrets) });
};

describe('pooling', () => {
  it('two messages sent one right after the other share one SMTP connection', async () => {
    const adapter = adapterFor(smtpEnv(smtp.port));
    try {
      const before = smtp.connections;
      const [a, b] = [freshTo('pool'), freshTo('pool')];
      expect(
        await adapter.send(emailRow(a), { signal: AbortSignal.timeout(5_000), tenant: TENANT }),
      ).toMatchObject({ outcome: 'sent' });
      expect(
        await adapter.send(emailRow(b), { signal: AbortSignal.timeout(5_000), tenant: TENANT }),
      ).toMatchObject({ outcome: 'sent' });
      expect(smtp.connections - before).toBe(1);
      const sessions = [a, b].map((to) => smtp.received.find((r) => r.envelopeTo.includes(to))!.sessionId);
      expect(sessions[0]).toBeTruthy();
      expect(sessions[1]).toBe(sessions[0]);
    } finally {
      await adapter.close!();
    }
  });
});

describe("a send is bounded by the caller's AbortSignal (server accepts, never greets)", () => {
  let silent: net.Server;
  const held = new Set<net.Socket>();
  let connections = 0;
  beforeAll(async () => {
    silent = net.createServer((socket) => {
      connections += 1;
      held.add(socket);
      socket.on('close', () => held.delete(socket));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });
  // nodemailer's own timeouts (derived from this) are far away: only the signal can end the send.
  const silentAdapter = () =>
    adapterFor({ ...smtpEnv((silent.address() as AddressInfo).port), COMMS_PROVIDER_TIMEOUT_MS: '30000' });

  const timed = async (adapter: ProviderAdapter, row: OutboxRow, signal: AbortSignal) => {
    const t0 = performance.now();
    const result = await adapter.send(row, { signal, tenant: TENANT });
    return { result, ms: performance.now() - t0 };
  };

  it('a caller timeout returns promptly as retryable smtp_timeout that says the message may have been delivered', async () => {
    const adapter = silentAdapter();
    const row = emailRow(freshTo('silent'));
    try {
      const { result, ms } = await timed(adapter, row, AbortSignal.timeout(300));
      expect(ms).toBeLessThan(1_500);
      expect(result).toMatchObject({ outcome: 'retryable', errorCode: 'smtp_timeout' });
      const message = (result as { errorMessage: string }).errorMessage;
      expect(message).toMatch(/may have been delivered/);
      // The retry is recognisable as a duplicate: same Message-ID.
      expect(message).toContain(`<outbox-${row.id}@mupzaos.az>`);
      expect(connections).toBeGreaterThanOrEqual(1);
    } finally {
      await adapter.close!();
    }
  });

  it('an abort (e.g. shutdown) mid-send returns promptly as retryable smtp_aborted', async () => {
    const adapter = silentAdapter();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    try {
      const { result, ms } = await timed(adapter, emailRow(freshTo('silent')), ac.signal);
      expect(ms).toBeLessThan(1_500);
      expect(result).toMatchObject({ outcome: 'retryable', errorCode: 'smtp_aborted' });
      expect((result as { errorMessage: string }).errorMessage).toMatch(/may have been delivered/);
    } finally {
      await adapter.close!();
    }
  });

  it('an already-aborted signal sends nothing: no connection, smtp_aborted "nothing was sent"', async () => {
    const adapter = silentAdapter();
    const before = connections;
    try {
      const { result } = await timed(adapter, emailRow(freshTo('silent')), AbortSignal.abort());
      expect(result).toMatchObject({ outcome: 'retryable', errorCode: 'smtp_aborted' });
      expect((result as { errorMessage: string }).errorMessage).toMatch(/nothing was sent/);
      await new Promise((r) => setTimeout(r, 100));
      expect(connections).toBe(before);
    } finally {
      await adapter.close!();
    }
  });
});

for (const kind of await drivers()) {
  describe(`SMTP through the real dispatcher and a loopback SMTP server [${kind}]`, () => {
    let app: TestApp;
    let refused: TestApp;
    beforeAll(async () => {
      // SMTP takes several round trips per message: a roomier timeout than the HTTP providers on 2 cores.
      app = await createTestApp(kind, {
        env: { ...LIVE_ENV, COMMS_PROVIDER_TIMEOUT_MS: '3000', ...smtpEnv(smtp.port) },
      });
      // Nothing listens there; a long first retry so the failed row is observed before its retry.
      refused = await createTestApp(kind, {
        env: {
          ...LIVE_ENV,
          COMMS_RETRY_BASE_MS: '60000',
          COMMS_RETRY_CAP_MS: '120000',
          ...smtpEnv(await closedPort()),
        },
      });
    });
    afterAll(async () => {
      await app.close();
      await refused.close();
    });

    it('a message arrives with Message-ID from the outbox id, UTF-8 subject, text and HTML parts', async () => {
      const to = freshTo('owner');
      const id = await enqueue(app, {
        channel: 'email',
        target: to,
        subject: `Gündəlik hesabat — ${AZ}`,
        body: `Gəlir: 1 250,00 ₼\n<b>not markup</b> ${AZ}`,
      });
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
      const id = await enqueue(app, {
        channel: 'email',
        target: to,
        subject: 'Retry',
        body: 'second time lucky',
      });
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
      const id = await enqueue(app, {
        channel: 'email',
        target: to,
        subject: 'Gone',
        body: 'no such mailbox',
      });
      const s = await settled(app, id);
      expect(s).toMatchObject({ status: 'dead', attempts: 1, last_error_code: 'smtp_550' });
      expect(s.reason).toContain('550');
      expect(await attemptsOf(app, id)).toHaveLength(1);
      expect(smtp.received.filter((r) => r.envelopeTo.includes(to))).toHaveLength(0);
    });

    it('a 554 reply is dead after 1 attempt with smtp_554, nothing delivered', async () => {
      const to = freshTo('refused554');
      smtp.plan(to, [554]);
      const id = await enqueue(app, {
        channel: 'email',
        target: to,
        subject: 'No',
        body: 'transaction failed',
      });
      const s = await settled(app, id);
      expect(s).toMatchObject({ status: 'dead', attempts: 1, last_error_code: 'smtp_554' });
      expect((await attemptsOf(app, id)).map((a) => [a.outcome, a.error_code])).toEqual([
        ['permanent', 'smtp_554'],
      ]);
      expect(smtp.received.filter((r) => r.envelopeTo.includes(to))).toHaveLength(0);
    });

    it('a refused connection is failed (retryable) with smtp_esocket and a next attempt scheduled', async () => {
      const id = await enqueue(refused, {
        channel: 'email',
        target: freshTo('norelay'),
        subject: 'Later',
        body: 'server down',
      });
      const s = await settled(refused, id);
      expect(s).toMatchObject({ status: 'failed', attempts: 1, last_error_code: 'smtp_esocket' });
      expect(s.reason).toMatch(/ECONNREFUSED/);
      expect(s.next_attempt_at).not.toBeNull();
      expect((await attemptsOf(refused, id)).map((a) => [a.outcome, a.error_code])).toEqual([
        ['retryable', 'smtp_esocket'],
      ]);
      await cancelIfFailed(refused, s);
    });
  });
}
