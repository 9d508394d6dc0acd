import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import type { TwilioVerifyFake } from '../fakes/twilio-verify.ts';
import { drivers } from '../helpers/db.ts';
import { addOwner, azPhone, createOtpApp, FakeClock, liveOtpEnv, startFake, type OtpApp } from './helpers.ts';

// Behind a reverse proxy every request arrives from the proxy's address. HTTP_TRUSTED_PROXIES names
// the proxies whose X-Forwarded-For is believed, so the per-IP OTP limit counts real clients there,
// while a client elsewhere cannot dodge the limit by sending the header itself.
const PROXY = '10.20.0.5';

describe('HTTP_TRUSTED_PROXIES config', () => {
  it('takes IPs, CIDR ranges and proxy-addr keywords; refuses anything else', () => {
    expect(
      loadConfig({ HTTP_TRUSTED_PROXIES: '10.20.0.5, 10.0.0.0/8, ::1, fd00::/8, loopback' }).env
        .HTTP_TRUSTED_PROXIES,
    ).toContain('10.0.0.0/8');
    expect(loadConfig({}).env.HTTP_TRUSTED_PROXIES).toBe('');
    for (const bad of ['proxy.example.az', '10.0.0.1/33', '10.0.0.1/8/1', '*', '10.0.0.0/x']) {
      expect(() => loadConfig({ HTTP_TRUSTED_PROXIES: bad }), bad).toThrow(/HTTP_TRUSTED_PROXIES/);
    }
  });
});

for (const kind of await drivers()) {
  describe(`per-IP OTP limit behind a trusted proxy [${kind}]`, () => {
    const clock = new FakeClock();
    let fake: TwilioVerifyFake;
    let h: OtpApp;
    beforeAll(async () => {
      fake = await startFake(clock);
      h = await createOtpApp(kind, clock, {
        env: liveOtpEnv(fake, { OTP_MAX_STARTS_PER_IP_HOUR: '1', HTTP_TRUSTED_PROXIES: PROXY }),
      });
    });
    afterAll(async () => {
      await h.app.close();
      await fake.close();
    });

    const start = async (remoteAddress: string, forwardedFor?: string) => {
      const phone = azPhone();
      await addOwner(h.app, phone);
      return h.post(
        '/api/v1/auth/otp/start',
        { tenant: 'acme', phone },
        { remoteAddress, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} },
      );
    };

    it('through the proxy, each forwarded client has its own count', async () => {
      expect((await start(PROXY, '198.51.100.1')).statusCode).toBe(202);
      expect((await start(PROXY, '198.51.100.2')).statusCode).toBe(202);
      const again = await start(PROXY, '198.51.100.1');
      expect(again.statusCode).toBe(429);
      expect(again.json()).toMatchObject({ details: { limit: 'ip_hour' } });
    });

    it('from anywhere else, X-Forwarded-For is ignored: the TCP peer is counted', async () => {
      expect((await start('203.0.113.40', '198.51.100.9')).statusCode).toBe(202);
      const forged = await start('203.0.113.40', '198.51.100.10');
      expect(forged.statusCode).toBe(429);
      expect(forged.json()).toMatchObject({ details: { limit: 'ip_hour' } });
    });
  });
}
