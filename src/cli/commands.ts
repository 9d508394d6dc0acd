import type { Config } from '../config/config.ts';
import { openStore } from '../store/open.ts';
import { migrate } from '../store/migrate.ts';
import { createTenant } from '../store/tenants.ts';
import { newToken, storeToken } from '../store/tokens.ts';
import { createRedactor, maskTarget } from '../core/redact.ts';
import { ADAPTER_IDS } from '../core/channels.ts';
import { createRegistry } from '../providers/registry.ts';
import { runVerification, VerifyUnsupportedError } from '../providers/verification.ts';
import { sealTenant, verifyTenant } from '../audit/chain.ts';
import { CommsApiError, CommsClient } from '../client/index.ts';
import { readFile } from 'node:fs/promises';
import { DeviceClient } from '../lan/device-client.ts';
import { CLOSE } from '../lan/protocol.ts';
import { normalizeE164 } from '../core/target.ts';
import { DEFAULT_OTP_PREFIXES, ownerPhoneProblem, setupOwnerLogin } from '../otp/owners.ts';
import { setTelegramWebhook, WebhookRegistrationError } from '../webhooks/registration.ts';
import { mapPhoneNumber } from '../webhooks/routing.ts';
import { getTenant } from '../store/tenants.ts';
import { printerCommand } from './printer-fake.ts';

export type CliCommand = (args: string[], config: () => Config) => Promise<number>;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** `--owner-phone` and `--otp-prefixes` of tenant create: the first owner's sign-in phone and the OTP allow-list. */
function ownerLoginFlags(args: string[]): { phone?: string; prefixes?: string[] } | { error: string } {
  const rawPrefixes = flag(args, 'otp-prefixes');
  const prefixes = rawPrefixes?.split(',').map((p) => p.trim()).filter(Boolean);
  if (prefixes && (prefixes.length === 0 || !prefixes.every((p) => /^\+[1-9]\d{0,5}$/.test(p)))) {
    return { error: '--otp-prefixes must be dialling prefixes like +994,+90' };
  }
  const rawPhone = flag(args, 'owner-phone');
  if (rawPhone === undefined) return prefixes ? { prefixes } : {};
  let phone: string;
  try {
    phone = normalizeE164(rawPhone);
  } catch {
    return { error: '--owner-phone must be an E.164 phone number like +994501234567' };
  }
  const problem = ownerPhoneProblem(phone, prefixes ?? DEFAULT_OTP_PREFIXES);
  if (problem) return { error: problem.replace('ownerPhone', '--owner-phone').replace('(otpAllowedPrefixes)', '(--otp-prefixes)') };
  return prefixes ? { phone, prefixes } : { phone };
}

/** Sub-commands beyond serve/migrate/readiness; other modules add theirs here. */
export const cliCommands: Record<string, CliCommand> = {
  async tenant(args, config) {
    if (args[0] !== 'create') {
      console.error('usage: mupza-comms tenant create --id ID --name NAME [--country AZ] [--currency AZN] [--timezone Asia/Baku] [--locale az] [--owner-phone +994…] [--otp-prefixes +994,…]');
      return 2;
    }
    const id = flag(args, 'id');
    const name = flag(args, 'name');
    if (!id || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id) || !name) {
      console.error('--id (lowercase, digits, _ -) and --name are required');
      return 2;
    }
    const login = ownerLoginFlags(args);
    if ('error' in login) {
      console.error(login.error);
      return 2;
    }
    const cfg = config();
    const db = await openStore({ databaseUrl: cfg.env.DATABASE_URL, dataDir: cfg.env.DATA_DIR });
    try {
      await migrate(db);
      const token = newToken('owner');
      const t = await db.tx(async (q) => {
        const row = await createTenant(
          q,
          {
            id,
            name,
            country: flag(args, 'country') ?? 'AZ',
            currency: flag(args, 'currency') ?? 'AZN',
            timezone: flag(args, 'timezone') ?? 'Asia/Baku',
            locale: flag(args, 'locale') ?? 'az',
            optIns: { in_app: true, ...(login.phone ? { otp_sms: true } : {}) },
          },
          'operator:cli',
        );
        if (row) await storeToken(q, { token, tenantId: row.id, role: 'owner', subject: `${row.id}-owner`, label: 'created by CLI' });
        if (row) await setupOwnerLogin(q, { tenantId: row.id, ownerId: `${row.id}-owner`, phone: login.phone, prefixes: login.prefixes, actor: 'operator:cli' });
        return row;
      });
      if (!t) {
        console.error(`A tenant with id "${id}" already exists.`);
        return 1;
      }
      console.log(JSON.stringify({ tenant: { id: t.id, name: t.name, country: t.country, currency: t.currency }, ownerToken: token }, null, 2));
      return 0;
    } finally {
      await db.close();
    }
  },

  async audit(args, config) {
    if (args[0] !== 'verify') {
      console.error('usage: mupza-comms audit verify [--tenant ID]');
      return 2;
    }
    const cfg = config();
    const db = await openStore({ databaseUrl: cfg.env.DATABASE_URL, dataDir: cfg.env.DATA_DIR });
    try {
      await migrate(db);
      const only = flag(args, 'tenant');
      const tenants = only ? [only] : (await db.query<{ id: string }>('SELECT id FROM tenants ORDER BY id')).rows.map((r) => r.id);
      let ok = true;
      for (const t of tenants) {
        while ((await sealTenant(db, t)) > 0);
        const r = await verifyTenant(db, t);
        ok &&= r.ok;
        console.log(
          r.ok
            ? `${t}: ok, ${r.checked} events chained`
            : `${t}: BROKEN at seal ${r.firstBroken!.seq} (audit event ${r.firstBroken!.auditId}): ${r.firstBroken!.reason}`,
        );
      }
      return ok ? 0 : 1;
    } finally {
      await db.close();
    }
  },

  /** Enqueue through a running service with the typed client: integrators' smoke test. */
  async send(args) {
    const url = flag(args, 'url') ?? 'http://localhost:8080';
    const token = flag(args, 'token');
    const channel = flag(args, 'channel');
    const target = flag(args, 'target');
    if (!token || !channel || !target) {
      console.error('usage: mupza-comms send --token T --channel email|whatsapp|telegram|in_app|otp_sms --target X [--body TEXT] [--subject S] [--title T] [--url http://localhost:8080]');
      return 2;
    }
    const client = new CommsClient({ baseUrl: url, token });
    try {
      const r = await client.enqueue({
        channel,
        target,
        body: flag(args, 'body'),
        subject: flag(args, 'subject'),
        title: flag(args, 'title'),
        source: 'cli',
      });
      console.log(JSON.stringify(r));
      return 0;
    } catch (err) {
      if (err instanceof CommsApiError) {
        console.error(`${err.status} ${err.code}: ${err.message}`);
        return 1;
      }
      throw err;
    }
  },

  async outbox(args, config) {
    const cfg = config();
    const db = await openStore({ databaseUrl: cfg.env.DATABASE_URL, dataDir: cfg.env.DATA_DIR });
    try {
      await migrate(db);
      const tenant = flag(args, 'tenant') ?? 'demo';
      const status = flag(args, 'status') ?? null;
      const r = await db.query<{ id: string; channel: string; target: string; status: string; reason: string | null; title: string | null; created_at: Date }>(
        `SELECT id, channel, target, status, reason, title, created_at FROM outbox WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY created_at DESC LIMIT 50`,
        [tenant, status],
      );
      console.table(r.rows.map((x) => ({ ...x, target: maskTarget(x.target), created_at: new Date(x.created_at).toISOString() })));
      return 0;
    } finally {
      await db.close();
    }
  },

  // On-demand provider credential check; sends no message. Exit 0 = verified, 1 = refused.
  async providers(args, config) {
    const id = args[1];
    if (args[0] !== 'verify' || !id) {
      console.error(`usage: mupza-comms providers verify <${ADAPTER_IDS.filter((a) => a !== 'lan_hub').join('|')}> [--json]`);
      return 2;
    }
    const adapterId = ADAPTER_IDS.find((a) => a === id);
    if (!adapterId) {
      console.error(`No adapter "${id.replace(/[^a-z0-9_]/g, '')}". Adapters: ${ADAPTER_IDS.join(', ')}.`);
      return 2;
    }
    const cfg = config();
    const redactor = createRedactor(cfg.secrets);
    const registry = createRegistry({ config: cfg, redactor }, { lanHub: () => null });
    try {
      const r = await runVerification(registry.get(adapterId), cfg.env.COMMS_PROVIDER_TIMEOUT_MS + 1_000, redactor);
      console.log(args.includes('--json') ? JSON.stringify(r, null, 2) : `${adapterId}: ${r.ok ? 'verified' : 'NOT verified'} at ${r.at} — ${r.detail}`);
      return r.ok ? 0 : 1;
    } catch (err) {
      if (err instanceof VerifyUnsupportedError) {
        console.error(`${adapterId} has no credentials to check.`);
        return 2;
      }
      throw err;
    } finally {
      await registry.close();
    }
  },

  // Registers BACKEND_PUBLIC_URL/telegram/webhook/<secret> with Telegram (secret_token = the same
  // secret) and records it for readiness. Exit 0 = registered, 1 = refused, 2 = usage/config.
  async telegram(args, config) {
    if (args[0] !== 'set-webhook') {
      console.error('usage: mupza-comms telegram set-webhook');
      return 2;
    }
    const cfg = config();
    const redactor = createRedactor(cfg.secrets);
    const db = await openStore({ databaseUrl: cfg.env.DATABASE_URL, dataDir: cfg.env.DATA_DIR });
    try {
      await migrate(db);
      const r = await setTelegramWebhook(db, cfg, redactor);
      console.log(`Telegram webhook registered: ${r.url} at ${r.at.toISOString()}`);
      return 0;
    } catch (err) {
      if (!(err instanceof WebhookRegistrationError)) throw err;
      console.error(redactor.scrub(err.message));
      return err.message.startsWith('not configured') ? 2 : 1;
    } finally {
      await db.close();
    }
  },

  // Routes WhatsApp webhooks of a phone_number_id to a tenant (without a mapping, only the number in
  // WHATSAPP_PHONE_NUMBER_ID is routed, to the demo tenant).
  async whatsapp(args, config) {
    const phone = flag(args, 'phone-number-id');
    const tenant = flag(args, 'tenant');
    if (args[0] !== 'map-number' || !phone || !/^[0-9]{1,32}$/.test(phone) || !tenant) {
      console.error('usage: mupza-comms whatsapp map-number --phone-number-id DIGITS --tenant ID');
      return 2;
    }
    const cfg = config();
    const db = await openStore({ databaseUrl: cfg.env.DATABASE_URL, dataDir: cfg.env.DATA_DIR });
    try {
      await migrate(db);
      if (!(await getTenant(db, tenant))) {
        console.error(`No tenant "${tenant.replace(/[^a-z0-9_-]/g, '')}".`);
        return 1;
      }
      await mapPhoneNumber(db, phone, tenant);
      console.log(`WhatsApp phone_number_id ${phone} → tenant ${tenant}`);
      return 0;
    } finally {
      await db.close();
    }
  },

  // Reference LAN device: notifications as JSON lines on stdout (status on stderr), each acked.
  async device(args) {
    const url = flag(args, 'url');
    const tokenFile = flag(args, 'token-file');
    const token = flag(args, 'token') ?? (tokenFile ? (await readFile(tokenFile, 'utf8')).trim() : undefined);
    if (args[0] !== 'connect' || !url || !token) {
      console.error(
        'usage: mupza-comms device connect --url ws://HUB:8080/api/v1/lan/ws (--token TOKEN | --token-file PATH) [--after SEQ] [--count N] [--no-ack] [--auth-message]',
      );
      return 2;
    }
    const after = flag(args, 'after');
    const count = flag(args, 'count');
    if ((after !== undefined && !/^\d+$/.test(after)) || (count !== undefined && !/^[1-9]\d*$/.test(count))) {
      console.error('--after and --count take whole numbers');
      return 2;
    }
    const client = new DeviceClient({
      url,
      token,
      after: after === undefined ? undefined : Number(after),
      ack: !args.includes('--no-ack'),
      auth: args.includes('--auth-message') ? 'message' : 'header',
      reconnect: true,
    });
    return new Promise<number>((resolve) => {
      let received = 0;
      const done = (code: number) => {
        void client.close().then(() => resolve(code));
      };
      client.on('hello', (h) => console.error(JSON.stringify(h)));
      client.on('protocol-error', (e) => console.error(JSON.stringify(e)));
      client.on('refused', (e: Error) => {
        console.error(e.message);
        done(1);
      });
      client.on('close', (code: number, reason: string) => {
        console.error(JSON.stringify({ type: 'closed', code, reason }));
        if (code === CLOSE.unauthorized || code === CLOSE.revoked || code === CLOSE.replaced) done(1);
      });
      client.on('notification', (n) => {
        console.log(JSON.stringify(n));
        // Close after the ack of this burst went out (acks are sent on the next turn).
        if (count !== undefined && ++received >= Number(count)) setImmediate(() => done(0));
      });
      process.once('SIGINT', () => done(0));
      process.once('SIGTERM', () => done(0));
      client.connect().catch(() => undefined);
    });
  },

  // A test ESC/POS network printer: tickets it prints go to stdout.
  printer: (args) => printerCommand(args),
};
