import { describe, expect, it } from 'vitest';
import { classifyTwilio, TWILIO_RULES, UNCERTAIN_CODE } from '../../src/providers/twilio-errors.ts';
import {
  classifyWhatsApp,
  OUTSIDE_WINDOW_REASON,
  WHATSAPP_RULES,
} from '../../src/providers/whatsapp-errors.ts';
import { classifyTelegram } from '../../src/providers/telegram-errors.ts';
import { classifySmtp, SMTP_ERROR_RULES, SMTP_REPLY_RULES } from '../../src/providers/smtp-errors.ts';
import { adapterDeadlineMs, withoutUrl } from '../../src/providers/http.ts';

// The classification tables, code by code (docs/providers.md lists the same rows). Each listed code
// is also driven end to end through the dispatcher in the provider's own test file.

const twilioErr = (code: number, status: number) => ({
  code,
  message: `msg ${code}`,
  more_info: `https://www.twilio.com/docs/errors/${code}`,
  status,
});

describe('Twilio Verify classification', () => {
  const table: [code: number, http: number, klass: string, extra: Record<string, unknown>][] = [
    [60200, 400, 'permanent', {}],
    [60202, 429, 'permanent', {}],
    [60203, 429, 'permanent', {}],
    [60212, 429, 'rate_limited', { retryAfterMs: 2_000 }],
    [60410, 403, 'permanent', {}],
    [60605, 403, 'permanent', { finalStatus: 'blocked' }],
    [20404, 404, 'permanent', {}],
    [20429, 429, 'rate_limited', { retryAfterMs: 1_000 }],
  ];
  for (const [code, http, klass, extra] of table) {
    it(`${code} (HTTP ${http}) on a check → ${klass}`, () => {
      const c = classifyTwilio('check', http, twilioErr(code, http), null);
      expect(c).toMatchObject({
        class: klass,
        code: `twilio_${code}`,
        providerCode: code,
        httpStatus: http,
        ...extra,
      });
      expect(c.message).toContain(`code ${code}`);
    });
  }

  it('20429 honours Retry-After (seconds) over the default wait', () => {
    expect(classifyTwilio('create', 429, twilioErr(20429, 429), '7')).toMatchObject({
      class: 'rate_limited',
      retryAfterMs: 7_000,
    });
  });

  it('20500 on a check or fetch is retryable, on a create it is provider_uncertain (the POST is not idempotent)', () => {
    expect(classifyTwilio('check', 500, twilioErr(20500, 500), null)).toMatchObject({
      class: 'retryable',
      code: 'twilio_20500',
    });
    expect(classifyTwilio('fetch', 503, undefined, null)).toMatchObject({
      class: 'retryable',
      code: 'twilio_503',
    });
    const create = classifyTwilio('create', 500, twilioErr(20500, 500), null);
    expect(create).toMatchObject({ class: 'permanent', code: UNCERTAIN_CODE, providerCode: 20500 });
    expect(create.message).toContain('code 20500');
    expect(create.message).toContain('not retried');
    expect(classifyTwilio('create', 502, undefined, null)).toMatchObject({
      class: 'permanent',
      code: UNCERTAIN_CODE,
    });
  });

  it('60410 is permanent whatever HTTP status carries it (its status is undocumented)', () => {
    for (const s of [400, 403, 429])
      expect(classifyTwilio('create', s, twilioErr(60410, s), null).class).toBe('permanent');
  });

  it('unknown codes fall back on the HTTP status', () => {
    expect(classifyTwilio('create', 429, { code: 99999 }, null)).toMatchObject({
      class: 'rate_limited',
      retryAfterMs: 1_000,
    });
    expect(classifyTwilio('create', 400, { code: 99999 }, null)).toMatchObject({
      class: 'permanent',
      code: 'twilio_99999',
    });
    expect(classifyTwilio('check', 401, 'not json', null)).toMatchObject({
      class: 'permanent',
      code: 'twilio_401',
    });
  });

  it('every rule has a meaning', () => {
    for (const r of Object.values(TWILIO_RULES)) expect(r.meaning.length).toBeGreaterThan(3);
  });
});

const graphErr = (code: number, details = 'details') => ({
  error: {
    message: `(#${code}) title`,
    type: 'OAuthException',
    code,
    error_data: { messaging_product: 'whatsapp', details },
    fbtrace_id: 'Axyz',
  },
});

describe('WhatsApp Cloud API classification', () => {
  const table: [code: number, http: number, klass: string, extra: Record<string, unknown>][] = [
    [0, 401, 'permanent', {}],
    [190, 401, 'permanent', {}],
    [4, 400, 'rate_limited', { retryAfterMs: 60_000 }],
    [80007, 400, 'rate_limited', { retryAfterMs: 60_000 }],
    [100, 400, 'permanent', {}],
    [130429, 400, 'rate_limited', { retryAfterMs: 2_000 }],
    [131026, 400, 'permanent', {}],
    [131047, 400, 'permanent', {}],
    [131048, 400, 'permanent', {}],
    [131056, 400, 'rate_limited', { retryAfterMs: 6_000 }],
    [368, 403, 'permanent', {}],
  ];
  for (const [code, http, klass, extra] of table) {
    it(`${code} (HTTP ${http}) → ${klass}`, () => {
      expect(classifyWhatsApp(http, graphErr(code))).toMatchObject({
        class: klass,
        code: `whatsapp_${code}`,
        providerCode: code,
        ...extra,
      });
    });
  }

  it('131047 carries the "template required" reason', () => {
    expect(classifyWhatsApp(400, graphErr(131047)).message).toBe(
      `${OUTSIDE_WINDOW_REASON} (Meta code 131047)`,
    );
  });

  it('branches on error.code, not on HTTP status: code 4 is a rate limit at 400 or 429', () => {
    expect(classifyWhatsApp(429, graphErr(4)).class).toBe('rate_limited');
    expect(classifyWhatsApp(400, graphErr(4)).class).toBe('rate_limited');
  });

  it('permission codes 10 and 200-299 are permanent; is_transient or 5xx without a known code is retryable', () => {
    expect(classifyWhatsApp(403, graphErr(10)).class).toBe('permanent');
    expect(classifyWhatsApp(403, graphErr(250)).class).toBe('permanent');
    expect(
      classifyWhatsApp(400, {
        error: { message: 'x', type: 'OAuthException', code: 987654, is_transient: true },
      }).class,
    ).toBe('retryable');
    expect(classifyWhatsApp(500, graphErr(131000)).class).toBe('retryable');
    expect(classifyWhatsApp(502, '<html>bad gateway</html>')).toMatchObject({
      class: 'retryable',
      code: 'whatsapp_502',
    });
    expect(classifyWhatsApp(400, { error: { code: 999999, message: 'x' } }).class).toBe('permanent');
  });

  it('every rule has a meaning', () => {
    for (const r of Object.values(WHATSAPP_RULES)) expect(r.meaning.length).toBeGreaterThan(3);
  });
});

describe('Telegram Bot API classification', () => {
  it('400 → permanent', () => {
    expect(
      classifyTelegram(400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' }),
    ).toMatchObject({ class: 'permanent', code: 'telegram_400' });
  });
  it('401 → permanent', () => {
    expect(classifyTelegram(401, { ok: false, error_code: 401, description: 'Unauthorized' })).toMatchObject({
      class: 'permanent',
      code: 'telegram_401',
    });
  });
  it('403 → permanent, row blocked (the user blocked the bot)', () => {
    expect(
      classifyTelegram(403, {
        ok: false,
        error_code: 403,
        description: 'Forbidden: bot was blocked by the user',
      }),
    ).toMatchObject({
      class: 'permanent',
      code: 'telegram_403',
      finalStatus: 'blocked',
    });
  });
  it('429 → rate limited with parameters.retry_after seconds', () => {
    expect(
      classifyTelegram(429, {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 3',
        parameters: { retry_after: 3 },
      }),
    ).toMatchObject({
      class: 'rate_limited',
      code: 'telegram_429',
      retryAfterMs: 3_000,
    });
    // No retry_after in the body: the table's default wait.
    expect(classifyTelegram(429, { ok: false, error_code: 429 }).retryAfterMs).toBe(1_000);
  });
  it('5xx → retryable; a migrated group names its new chat', () => {
    expect(classifyTelegram(502, 'Bad Gateway')).toMatchObject({ class: 'retryable', code: 'telegram_502' });
    expect(
      classifyTelegram(400, {
        ok: false,
        error_code: 400,
        description: 'Bad Request: group chat was upgraded',
        parameters: { migrate_to_chat_id: -100123 },
      }).message,
    ).toContain('-100123');
  });
});

describe('SMTP classification', () => {
  const smtpError = (responseCode: number, command = 'RCPT TO') =>
    Object.assign(new Error(`Can't send mail - ${responseCode}`), {
      code: 'EENVELOPE',
      responseCode,
      command,
      response: `${responseCode} reply text`,
    });
  for (const code of [421, 450, 451, 452, 454]) {
    it(`${code} → retryable (transient)`, () => {
      expect(classifySmtp(smtpError(code))).toMatchObject({
        class: 'retryable',
        code: `smtp_${code}`,
        providerCode: code,
      });
    });
  }
  for (const code of [500, 501, 502, 503, 504, 530, 535, 550, 551, 552, 553, 554]) {
    it(`${code} → permanent`, () => {
      expect(classifySmtp(smtpError(code))).toMatchObject({ class: 'permanent', code: `smtp_${code}` });
    });
  }
  it('the reply code decides over the nodemailer class; unknown 4xx/5xx by first digit', () => {
    expect(classifySmtp(Object.assign(new Error('x'), { code: 'EAUTH', responseCode: 454 })).class).toBe(
      'retryable',
    );
    expect(classifySmtp(smtpError(471)).class).toBe('retryable');
    expect(classifySmtp(smtpError(571)).class).toBe('permanent');
    expect(classifySmtp(smtpError(550, 'DATA')).message).toContain('at DATA');
  });
  for (const kind of ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS']) {
    it(`connection error ${kind} → retryable`, () => {
      expect(classifySmtp(Object.assign(new Error('connect failed'), { code: kind }))).toMatchObject({
        class: 'retryable',
        code: `smtp_${kind.toLowerCase()}`,
      });
    });
  }
  it('configuration errors (TLS, auth without reply code) are permanent; every rule has a meaning', () => {
    for (const kind of ['ETLS', 'EAUTH', 'ECONFIG', 'ENOAUTH'])
      expect(classifySmtp(Object.assign(new Error('x'), { code: kind })).class).toBe('permanent');
    for (const r of [...Object.values(SMTP_REPLY_RULES), ...SMTP_ERROR_RULES.values()])
      expect(r.meaning.length).toBeGreaterThan(3);
  });
});

describe('HTTP helper pieces', () => {
  it('withoutUrl removes the URL, a Bot API token path and userinfo from an error text', () => {
    const url = 'http://u:pw@127.0.0.1:9/bot123:abc/sendMessage';
    expect(
      withoutUrl(`Request cannot be constructed from a URL that includes credentials: ${url}`, url),
    ).not.toContain('pw');
    expect(withoutUrl('GET https://api.telegram.org/bot123:SECRET/getMe failed', 'x')).toBe(
      'GET https://api.telegram.org/bot[REDACTED]/getMe failed',
    );
    expect(withoutUrl('connect to http://user:SECRET@host/ failed', 'x')).not.toContain('SECRET');
  });
  it('the adapter deadline is shorter than the lane timeout, so the adapter classifies its own timeouts', () => {
    for (const t of [100, 500, 5_000, 10_000, 120_000]) {
      expect(adapterDeadlineMs(t)).toBeLessThan(t);
      expect(adapterDeadlineMs(t)).toBeGreaterThanOrEqual(Math.min(50, t));
    }
  });
});
