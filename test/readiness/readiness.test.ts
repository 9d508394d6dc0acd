import { afterAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { CANARIES } from '../helpers/canary.ts';
import { CONTRACTS } from '../../src/core/channels.ts';
import { DEMO_SAMPLE_TEXT } from '../../src/app/demo-seed.ts';

const SEED = DEMO_SAMPLE_TEXT.az;

const ALL_PROVIDER_ENV = {
  OTP_PROVIDER: 'twilio',
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_VERIFY_SERVICE_SID: 'VA00000000000000000000000000000000',
  NEXT_PUBLIC_FIREBASE_API_KEY: 'public-api-key',
  NEXT_PUBLIC_FIREBASE_AUTH_DOMAIN: 'mupza.firebaseapp.com',
  NEXT_PUBLIC_FIREBASE_PROJECT_ID: 'mupza',
  NEXT_PUBLIC_FIREBASE_APP_ID: '1:1:web:1',
  WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
  WHATSAPP_API_VERSION: 'v23.0',
  BACKEND_PUBLIC_URL: 'https://comms.example.az',
  SMTP_HOST: 'smtp.example.az',
  SMTP_PORT: '587',
  SMTP_USER: 'mailer',
  SMTP_FROM: 'MUPZAOS <no-reply@example.az>',
};

type Readiness = {
  runtime: string;
  store: { kind: string; durable: boolean; note: string };
  summary: Record<string, number>;
  flags: Record<string, boolean>;
  contracts: { id: string; status: string; env: { name: string; configured: boolean }[] }[];
  adapters: {
    id: string;
    mode: string;
    lanSafe: boolean;
    endpoint: string;
    webhook: string;
    env: { name: string; configured: boolean }[];
  }[];
};

for (const kind of await drivers()) {
  describe(`readiness [${kind}]`, () => {
    const apps: TestApp[] = [];
    afterAll(async () => {
      for (const a of apps) await a.close();
    });

    it('demo tenant: the seed page counts, flags and statuses come from real state', async () => {
      const app = await createTestApp(kind, {
        seedDemo: true,
        canaries: false,
        env: { COMMS_BOOTSTRAP_OWNER_TOKEN: 'mz_owner_demo-bootstrap-token-for-tests' },
      });
      apps.push(app);
      const token = 'mz_owner_demo-bootstrap-token-for-tests';
      const r = (await app.as(token, { method: 'GET', url: '/api/v1/readiness' })).json() as Readiness & {
        tenant: Record<string, string>;
      };
      expect(r.tenant).toMatchObject({ id: 'demo', country: 'AZ', currency: 'AZN' });
      expect(r.runtime).toBe('qa');
      expect(r.store).toMatchObject({ kind, durable: kind === 'postgres' });
      expect(r.summary).toEqual({
        providers: 5,
        outboxItems: 4,
        envRequiredProviders: 4,
        lanSafeItems: 1,
        dryRunAdapters: 5,
      });
      expect(Object.values(r.flags).every(Boolean)).toBe(true);
      expect(Object.keys(r.flags).sort()).toEqual(
        [
          'cashierApprovalUntouched',
          'envValuesRedacted',
          'externalSendsDisabled',
          'otpOnlineOnly',
          'outboxAuditRequired',
          'posLanProtected',
          'providerAdaptersDryRun',
          'secretsNeverReturned',
        ].sort(),
      );
      expect(r.contracts.map((c) => [c.id, c.status])).toEqual([
        ['otp_sms', 'env_required'],
        ['whatsapp', 'env_required'],
        ['telegram', 'env_required'],
        ['email', 'env_required'],
        ['in_app', 'lan_ready'],
      ]);
      expect(r.adapters.map((a) => [a.id, a.mode])).toEqual([
        ['twilio_verify', 'dry_run'],
        ['firebase_auth', 'dry_run'],
        ['whatsapp_cloud', 'dry_run'],
        ['telegram_bot', 'dry_run'],
        ['smtp', 'dry_run'],
        ['lan_hub', 'lan'],
      ]);
      const wa = r.adapters.find((a) => a.id === 'whatsapp_cloud')!;
      expect(wa.endpoint).toBe(
        'https://graph.facebook.com/{WHATSAPP_API_VERSION}/{WHATSAPP_PHONE_NUMBER_ID}/messages',
      );
      expect(wa.webhook).toBe('GET verify token + POST inbound message webhook');

      const items = (await app.as(token, { method: 'GET', url: '/api/v1/outbox' })).json() as {
        items: { title: string; status: string; channel: string; source: string }[];
      };
      const byTitle = Object.fromEntries(items.items.map((i) => [i.title, i]));
      expect(byTitle[SEED.otpTitle]).toMatchObject({
        status: 'blocked',
        channel: 'otp_sms',
        source: 'owner_panel',
      });
      expect(byTitle[SEED.supportTitle]).toMatchObject({ status: 'queued', channel: 'whatsapp' });
      expect(byTitle[SEED.reportTitle]).toMatchObject({ status: 'ready', channel: 'email' });
      expect(byTitle[SEED.kitchenTitle]).toMatchObject({ channel: 'in_app', source: 'kitchen_desktop' });
    });

    it('with canary values in every secret env: every env name is configured, no value is returned', async () => {
      // The Turnstile site key is public (no canary), so it is set here by hand.
      const app = await createTestApp(kind, {
        canaries: true,
        env: { ...ALL_PROVIDER_ENV, CLOUDFLARE_TURNSTILE_SITE_KEY: '0x4AAAAAAAtestsitekey' },
      });
      apps.push(app);
      const res = await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' });
      const r = res.json() as Readiness;
      for (const c of r.contracts)
        for (const e of c.env) expect(e, `${c.id} ${e.name}`).toMatchObject({ configured: true });
      for (const a of r.adapters)
        for (const e of a.env) expect(e, `${a.id} ${e.name}`).toMatchObject({ configured: true });
      expect(r.summary.envRequiredProviders).toBe(0);
      for (const v of Object.values(CANARIES)) expect(res.body).not.toContain(v);
      expect(r.flags.envValuesRedacted).toBe(true);
      // QA runtime: still everything in dry-run.
      expect(r.flags.externalSendsDisabled).toBe(true);
      expect(r.flags.providerAdaptersDryRun).toBe(true);
    });

    it('a contract is configured only when every env name it lists is set (WhatsApp without its verify token or app secret)', async () => {
      for (const unset of ['WHATSAPP_VERIFY_TOKEN', 'WHATSAPP_APP_SECRET']) {
        const app = await createTestApp(kind, {
          canaries: true,
          env: { ...ALL_PROVIDER_ENV, [unset]: undefined },
        });
        try {
          const r = (
            await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })
          ).json() as Readiness;
          const wa = r.contracts.find((c) => c.id === 'whatsapp')!;
          expect(wa.env.map((e) => e.name)).toContain('WHATSAPP_APP_SECRET');
          expect(wa.env.find((e) => e.name === unset)).toEqual({ name: unset, configured: false });
          expect(wa.status, unset).toBe('env_required');
          expect(r.contracts.find((c) => c.id === 'telegram')!.status).toBe('configured');
          expect(r.summary.envRequiredProviders).toBe(1);
          // Turnstile's names are listed on OTP SMS as optional: without them OTP is configured.
          const otp = r.contracts.find((c) => c.id === 'otp_sms')!;
          expect(otp.env.find((e) => e.name === 'CLOUDFLARE_TURNSTILE_SITE_KEY')).toEqual({
            name: 'CLOUDFLARE_TURNSTILE_SITE_KEY',
            configured: false,
            optional: true,
          });
          expect(otp.status).toBe('configured');
        } finally {
          await app.close();
        }
      }
      // OTP through Firebase lists the Firebase names, not Twilio's, and is configured by them.
      const fb = await createTestApp(kind, {
        canaries: false,
        env: { ...ALL_PROVIDER_ENV, OTP_PROVIDER: 'firebase', TWILIO_ACCOUNT_SID: undefined },
      });
      try {
        const r = (
          await fb.as(fb.ownerToken, { method: 'GET', url: '/api/v1/readiness' })
        ).json() as Readiness;
        const otp = r.contracts.find((c) => c.id === 'otp_sms')!;
        expect(otp.env.map((e) => e.name)).toEqual([
          'OTP_PROVIDER',
          'NEXT_PUBLIC_FIREBASE_API_KEY',
          'NEXT_PUBLIC_FIREBASE_AUTH_DOMAIN',
          'NEXT_PUBLIC_FIREBASE_PROJECT_ID',
          'NEXT_PUBLIC_FIREBASE_APP_ID',
        ]);
        expect(otp.status).toBe('configured');
      } finally {
        await fb.close();
      }
    }, 180_000);

    it('the sign-in config says whether a code can be sent now, and why not', async () => {
      const cases: [Record<string, string | undefined>, { otpReady: boolean; otpMissing: string | null }][] =
        [
          [{}, { otpReady: false, otpMissing: 'provider' }],
          [{ OTP_PROVIDER: 'twilio' }, { otpReady: false, otpMissing: 'provider_env' }],
          [
            {
              OTP_PROVIDER: 'twilio',
              TWILIO_ACCOUNT_SID: ALL_PROVIDER_ENV.TWILIO_ACCOUNT_SID,
              TWILIO_VERIFY_SERVICE_SID: ALL_PROVIDER_ENV.TWILIO_VERIFY_SERVICE_SID,
            },
            { otpReady: true, otpMissing: null },
          ],
          [{ OTP_TEST_NUMBERS: '+994500000099:123456' }, { otpReady: true, otpMissing: null }],
        ];
      for (const [env, want] of cases) {
        // Canaries set every secret, the Twilio auth token among them.
        const app = await createTestApp(kind, { canaries: true, env });
        try {
          const res = await app.inject({ method: 'GET', url: '/api/v1/auth/config' });
          expect(res.json(), JSON.stringify(env)).toMatchObject(want);
        } finally {
          await app.close();
        }
      }
    }, 180_000);

    it('production with external sends enabled flips the send flags and the adapters go live', async () => {
      const app = await createTestApp(kind, {
        env: {
          ...ALL_PROVIDER_ENV,
          MUPZA_RUNTIME: 'production',
          COMMS_EXTERNAL_SENDS: 'enabled',
          COMMS_DRY_RUN_ADAPTERS: 'smtp',
        },
      });
      apps.push(app);
      const r = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })
      ).json() as Readiness;
      expect(r.flags.externalSendsDisabled).toBe(false);
      expect(r.flags.providerAdaptersDryRun).toBe(false);
      expect(r.adapters.find((a) => a.id === 'whatsapp_cloud')!.mode).toBe('live');
      expect(r.adapters.find((a) => a.id === 'smtp')!.mode).toBe('dry_run');
      // OTP_PROVIDER=twilio: the Firebase adapter is not the configured OTP provider.
      expect(r.adapters.find((a) => a.id === 'firebase_auth')!.mode).toBe('dry_run');
      expect(r.summary.dryRunAdapters).toBe(2);
    });

    it('outboxAuditRequired turns false when the append-only guard is switched off', async () => {
      const app = await createTestApp(kind);
      apps.push(app);
      const get = async () =>
        ((await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })).json() as Readiness)
          .flags;
      expect((await get()).outboxAuditRequired).toBe(true);
      await app.db.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
      expect((await get()).outboxAuditRequired).toBe(false);
      await app.db.exec('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
      expect((await get()).outboxAuditRequired).toBe(true);
    });

    it('health, readiness probe and Prometheus metrics', async () => {
      const app = apps[apps.length - 1]!;
      await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: { channel: 'email', target: 'm@example.az', body: 'x' },
      });
      await waitFor(async () => {
        const m = await app.inject({ method: 'GET', url: '/metrics' });
        return m.body.includes('comms_attempts_total{adapter="smtp",outcome="mock_sent"} 1');
      });
      const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(m).toContain('comms_outbox_rows{status="mock_sent",channel="email"} 1');
      expect(m).toContain('comms_dispatch_latency_seconds_bucket');
      expect(m).toContain('comms_secret_guard_hits_total');
      expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
      expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({
        status: 'ready',
        store: kind,
      });
    });

    it('operator creates a tenant; its owner token works and sees only its own tenant', async () => {
      const app = apps[0]!;
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/admin/tenants',
        headers: { authorization: `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}` },
        payload: {
          id: 'nargiz-cafe',
          name: 'Nargiz Cafe',
          country: 'AZ',
          currency: 'AZN',
          timezone: 'Asia/Baku',
          locale: 'az',
        },
      });
      // apps[0] was created without canaries: no operator token configured → refused.
      expect(res.statusCode).toBe(401);
      const app2 = apps[1]!;
      const ok = await app2.inject({
        method: 'POST',
        url: '/api/v1/admin/tenants',
        headers: { authorization: `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}` },
        payload: {
          id: 'nargiz-cafe',
          name: 'Nargiz Cafe',
          country: 'AZ',
          currency: 'AZN',
          timezone: 'Asia/Baku',
          locale: 'az',
        },
      });
      expect(ok.statusCode).toBe(201);
      const { ownerToken, tenant } = ok.json() as { ownerToken: string; tenant: { id: string } };
      expect(tenant.id).toBe('nargiz-cafe');
      const me = await app2.as(ownerToken, { method: 'GET', url: '/api/v1/me' });
      expect(me.json()).toMatchObject({ tenant: { id: 'nargiz-cafe', currency: 'AZN' }, role: 'owner' });
      const dup = await app2.inject({
        method: 'POST',
        url: '/api/v1/admin/tenants',
        headers: { authorization: `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}` },
        payload: { id: 'nargiz-cafe', name: 'Again', country: 'AZ', currency: 'AZN' },
      });
      expect(dup.statusCode).toBe(409);
    });
  });
}

it('the contract catalogue matches the seed page', () => {
  expect(CONTRACTS.map((c) => c.name)).toEqual([
    'OTP SMS',
    'WhatsApp',
    'Telegram',
    'Email',
    'In-app notification',
  ]);
});
