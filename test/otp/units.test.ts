import { describe, expect, it } from 'vitest';
import { StartAdmission } from '../../src/otp/admission.ts';
import { clientIpKey } from '../../src/otp/client-key.ts';
import { insertClaimedOtpRow } from '../../src/otp/otp-row.ts';
import type { Queryable } from '../../src/store/driver.ts';
import { EVENTS_CHANNEL } from '../../src/store/sql/notify.ts';
import { ProviderMimic } from '../../src/otp/mimic.ts';
import { allowedDestination, dialCodeOf, parseOtpPhone } from '../../src/otp/phone.ts';
import { answerBudgetMs, providerBudgetMs } from '../../src/otp/deadline.ts';
import { startRules } from '../../src/otp/limits.ts';
import { testConfig } from '../helpers/runtime.ts';

describe('OTP building blocks', () => {
  it('counts IPv4 per address and IPv6 per /64 (one subscriber holds a whole /64)', () => {
    expect(clientIpKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientIpKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientIpKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(clientIpKey('2001:db8:1:2::1')).toBe(clientIpKey('2001:0db8:0001:0002:ffff::9'));
    expect(clientIpKey('2001:db8:1:3::1')).not.toBe(clientIpKey('2001:db8:1:2::1'));
  });

  it('normalises phones, finds the dial code, applies the allow-list', () => {
    expect(parseOtpPhone('+994 50 123 45 67', new Map())).toEqual({
      e164: '+994501234567',
      dialCode: '+994',
    });
    expect(dialCodeOf('+905321234567')).toBe('+90');
    expect(dialCodeOf('+16505551234')).toBe('+1');
    // A fictional QA number is taken as configured, even when it is not a valid number.
    expect(parseOtpPhone('+15555550100', new Map([['+15555550100', '1234']])).e164).toBe('+15555550100');
    expect(() => parseOtpPhone('+15555550100', new Map())).toThrow(/E\.164/);
    expect(allowedDestination('+994501234567', ['+994'])).toBe(true);
    expect(allowedDestination('+905321234567', ['+994'])).toBe(false);
    expect(allowedDestination('+905321234567', ['+994', '+90'])).toBe(true);
    expect(allowedDestination('+994501234567', ['+'])).toBe(false);
  });

  it('builds the six limit rules from config, with the issue defaults', () => {
    const rules = startRules(testConfig().env, {
      phone: '+994501234567',
      ip: '1.2.3.4',
      tenant: 'acme',
      dialCode: '+994',
    });
    expect(rules.map((r) => [r.name, r.key, r.windowS, r.limit])).toEqual([
      ['resend_interval', 'phone:+994501234567', 30, 1],
      ['phone_10m', 'phone:+994501234567', 600, 3],
      ['phone_day', 'phone:+994501234567', 86_400, 10],
      ['ip_hour', 'ip:1.2.3.4', 3_600, 10],
      ['tenant_day', 'tenant:acme', 86_400, 200],
      ['dial_code_day', 'dial:+994', 86_400, 1_000],
    ]);
    expect(
      startRules(testConfig({ OTP_RESEND_INTERVAL_S: '0' }).env, {
        phone: 'p',
        ip: 'i',
        tenant: 't',
        dialCode: 'd',
      }).map((r) => r.name),
    ).not.toContain('resend_interval');
  });

  it('keeps the answer inside OTP_TIMEOUT_MS with room to record the provider outcome first', () => {
    for (const t of [100, 1_000, 5_000, 60_000]) {
      expect(answerBudgetMs(t)).toBeLessThan(t);
      expect(providerBudgetMs(t)).toBeLessThan(answerBudgetMs(t));
      expect(providerBudgetMs(t)).toBeGreaterThan(0);
    }
    expect([answerBudgetMs(5_000), providerBudgetMs(5_000)]).toEqual([4_250, 4_000]);
    expect([answerBudgetMs(1_000), providerBudgetMs(1_000)]).toEqual([667, 567]);
  });

  it('OTP_TIMEOUT_MS defaults to 5000 ms (the issue: "timing out (5 s by default)")', () => {
    const env = testConfig().env;
    expect(env.OTP_TIMEOUT_MS).toBe(5_000);
    expect(answerBudgetMs(env.OTP_TIMEOUT_MS)).toBeLessThan(5_000);
  });

  it('admits at most `max` starts at once; a refused start needs no release; refusals are reported once per burst', () => {
    const reports: number[] = [];
    const a = new StartAdmission(2, (n) => reports.push(n));
    const r1 = a.enter()!;
    const r2 = a.enter()!;
    expect(a.enter()).toBeNull();
    expect(a.enter()).toBeNull();
    expect(a.active).toBe(2);
    r1();
    r1(); // a second release of the same start changes nothing
    expect(a.active).toBe(1);
    expect(reports).toEqual([2]);
    const r3 = a.enter()!;
    expect(a.enter()).toBeNull();
    r2();
    r3();
    expect(a.active).toBe(0);
    expect(reports).toEqual([2, 1]);
  });

  it('a decoy takes about as long as recent real calls, and fails the way the provider last failed', () => {
    let now = 0;
    const m = new ProviderMimic(() => now);
    for (const ms of [100, 120, 110, 130, 90]) m.record(ms, { ok: true });
    const ok = m.next();
    expect(ok.outcome.ok).toBe(true);
    expect(ok.ms).toBeGreaterThanOrEqual(99);
    expect(ok.ms).toBeLessThanOrEqual(121);
    m.record(4_000, {
      ok: false,
      code: 'provider_uncertain',
      message: 'the OTP provider did not answer in time',
    });
    const failing = m.next();
    expect(failing.outcome).toMatchObject({ ok: false, code: 'provider_uncertain' });
    expect(failing.ms).toBeGreaterThanOrEqual(3_600);
    // A failure a minute old says nothing about the provider any more.
    now += 61_000;
    expect(m.next().outcome.ok).toBe(true);
  });

  it('an OTP row claimed in its own insert transaction wakes no dispatcher lane (the panel still hears of it, lazily)', async () => {
    const published: { channel: string; payload: string; lazy: boolean }[] = [];
    const answers = [
      {
        rows: [
          { id: 'r1', tenant_id: 'acme', status: 'ready', adapter: 'twilio_verify', attempts: 0, _due: true },
        ],
        rowCount: 1,
      },
      { rows: [{ attempts: 1 }], rowCount: 1 },
    ];
    const q: Queryable = {
      query: async <T>() => answers.shift() as unknown as { rows: T[]; rowCount: number },
      exec: async () => undefined,
      publish: (channel, payload, opts) => published.push({ channel, payload, lazy: opts?.lazy === true }),
    };
    const row = await insertClaimedOtpRow(q, {
      id: 'r1',
      tenantId: 'acme',
      adapter: 'twilio_verify',
      phone: '+994501234567',
      locale: null,
      nowMs: 0,
      ttlS: 600,
      reason: 'r',
      actor: 'a',
      mode: 'live',
      worker: 'w',
      leaseMs: 1_000,
    });
    expect(row.status).toBe('sending');
    expect(published).toHaveLength(1);
    expect(published[0]!.channel).toBe(EVENTS_CHANNEL);
    expect(published[0]!.lazy).toBe(true);
    expect(JSON.parse(published[0]!.payload)).toMatchObject({ t: 'acme', w: [], e: [['r1', 'ready']] });
  });
});
