import { describe, expect, it } from 'vitest';
import { REDACTED, createRedactor, maskTarget } from '../../src/core/redact.ts';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { nextDelayMs } from '../../src/core/backoff.ts';
import { normalizeTarget } from '../../src/core/target.ts';
import { AppError } from '../../src/core/errors.ts';

describe('redaction', () => {
  const r = createRedactor({ TELEGRAM_BOT_TOKEN: '123456:ABC-secret', SMTP_PASS: 'p@ss word!', SHORT: 'ab' });

  it('replaces raw, URL-encoded, JSON-escaped and base64 forms', () => {
    expect(r.scrub('https://api.telegram.org/bot123456:ABC-secret/sendMessage')).toBe(
      `https://api.telegram.org/bot${REDACTED}/sendMessage`,
    );
    expect(r.scrub(`pw=${encodeURIComponent('p@ss word!')}`)).toBe(`pw=${REDACTED}`);
    expect(r.scrub(Buffer.from('p@ss word!').toString('base64'))).toBe(REDACTED);
    expect(r.findNames('x 123456:ABC-secret y')).toEqual(['TELEGRAM_BOT_TOKEN']);
  });

  it('ignores values too short to be secrets', () => {
    expect(r.scrub('ab cd')).toBe('ab cd');
  });

  it('scrubs nested values', () => {
    expect(r.scrubValue({ a: ['p@ss word!'], b: { c: 'ok' } })).toEqual({ a: [REDACTED], b: { c: 'ok' } });
  });

  it('masks phones and emails for lists', () => {
    expect(maskTarget('+994500000001')).toBe('+994 ••• ••• 01');
    expect(maskTarget('owner@example.local')).toBe('o•••@example.local');
    expect(maskTarget('pos-desktop-01')).toBe('pos-desktop-01');
  });
});

describe('config', () => {
  it('stops on an invalid value with a message naming the variable and the rule, never the value', () => {
    const bad = 'not-a-port-zzz';
    try {
      loadConfig({ PORT: bad });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toContain('PORT');
      expect((e as Error).message).not.toContain(bad);
    }
    expect(() => loadConfig({ TELEGRAM_WEBHOOK_SECRET: 'has spaces in it' })).toThrow(
      /TELEGRAM_WEBHOOK_SECRET/,
    );
    try {
      loadConfig({ TELEGRAM_WEBHOOK_SECRET: 'has spaces secretvalue' });
    } catch (e) {
      expect((e as Error).message).not.toContain('secretvalue');
    }
  });

  it('defaults to QA, sends disabled, PGlite under ./data', () => {
    const c = loadConfig({});
    expect(c.runtime).toBe('qa');
    expect(c.externalSends).toBe('disabled');
    expect(c.env.DATA_DIR).toBe('./data');
    expect(c.env.PORT).toBe(8080);
  });

  it('refuses QA test numbers outside QA and unknown pinned adapters', () => {
    expect(() =>
      loadConfig({ MUPZA_RUNTIME: 'production', OTP_TEST_NUMBERS: '+994500000099:123456' }),
    ).toThrow(/OTP_TEST_NUMBERS/);
    expect(() => loadConfig({ COMMS_DRY_RUN_ADAPTERS: 'whatsapp_cloud,nope' })).toThrow(
      /COMMS_DRY_RUN_ADAPTERS/,
    );
    expect([...loadConfig({ COMMS_DRY_RUN_ADAPTERS: 'whatsapp_cloud, smtp' }).pinnedDryRun]).toEqual([
      'whatsapp_cloud',
      'smtp',
    ]);
  });

  it('records which names are configured, treating empty strings as unset', () => {
    const c = loadConfig({ SMTP_HOST: 'mail.example.az', SMTP_PASS: '' });
    expect(c.configured.has('SMTP_HOST')).toBe(true);
    expect(c.configured.has('SMTP_PASS')).toBe(false);
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter, is capped, and honours the provider wait as a floor', () => {
    const p = { baseMs: 1000, capMs: 8000 };
    expect(nextDelayMs(1, p, () => 0)).toBe(500);
    expect(nextDelayMs(1, p, () => 1)).toBe(1000);
    expect(nextDelayMs(3, p, () => 1)).toBe(4000);
    expect(nextDelayMs(10, p, () => 1)).toBe(8000);
    expect(nextDelayMs(1, p, () => 0, 3000)).toBe(3000);
  });
});

describe('targets', () => {
  it('normalises phones to E.164 and refuses garbage with stable codes', () => {
    expect(normalizeTarget('whatsapp', '+994 50 123 45 67')).toBe('+994501234567');
    for (const bad of ['994501234567', '+994', '+99450123456789012', 'abc']) {
      expect(() => normalizeTarget('otp_sms', bad)).toThrow(AppError);
    }
    expect(() => normalizeTarget('email', 'not-an-email')).toThrow(/email/);
    expect(() => normalizeTarget('in_app', 'role:chef')).toThrow(AppError);
    expect(normalizeTarget('in_app', 'role:kitchen')).toBe('role:kitchen');
    expect(normalizeTarget('telegram', '-100123456')).toBe('-100123456');
  });
});
