import type { Config } from '../config/config.ts';
import { createRedactor, maskTarget } from '../core/redact.ts';
import { ADAPTER_IDS } from '../core/channels.ts';
import { createRegistry } from '../providers/registry.ts';
import { runVerification, VerifyUnsupportedError } from '../providers/verification.ts';
import { sealTenant, verifyTenant } from '../audit/chain.ts';
import { CommsApiError, CommsClient } from '../client/index.ts';
import { readFile } from 'node:fs/promises';
import { DeviceClient } from '../device-sdk/index.ts';
import { WS_PATH } from '../lan/protocol.ts';
import { setTelegramWebhook, WebhookRegistrationError } from '../webhooks/registration.ts';
import {
  addTenantDevice,
  addTenantOwnerPhone,
  createTenantWithOwner,
  listTenants,
  mapWhatsAppNumber,
  newTenantDeviceToken,
  removeTenantOwnerPhone,
} from '../admin/operations.ts';
import {
  callService,
  defaultServiceUrl,
  flag,
  reach,
  readThroughService,
  runOperatorAction,
  ServiceUnreachableError,
} from './service-link.ts';
import { backupCommand, restoreCommand } from './backup.ts';
import { printerCommand } from './printer-fake.ts';

export type CliCommand = (args: string[], config: () => Config) => Promise<number>;

function auditLine(tenant: string, r: Awaited<ReturnType<typeof verifyTenant>>): string {
  return r.ok
    ? `${tenant}: ok, ${r.checked} events chained`
    : `${tenant}: BROKEN at seal ${r.firstBroken!.seq} (audit event ${r.firstBroken!.auditId}): ${r.firstBroken!.reason}`;
}

/** Sub-commands beyond serve/migrate/readiness; other modules add theirs here. */
export const cliCommands: Record<string, CliCommand> = {
  // Operator actions: through the running service when it holds the embedded store, else on the
  // store itself under DATA_DIR's lock (src/cli/service-link.ts).
  backup: backupCommand,
  restore: restoreCommand,
  async tenant(args, config) {
    if (args[0] === 'list') {
      return runOperatorAction(args, config(), {
        command: 'tenant list',
        method: 'GET',
        path: '/api/v1/admin/tenants',
        store: (db) => listTenants(db),
      });
    }
    if (args[0] !== 'create') {
      console.error(
        'usage: mupza-comms tenant create --id ID --name NAME [--country AZ] [--currency AZN] [--timezone Asia/Baku] [--locale az] [--owner-phone +994…] [--otp-prefixes +994,…] [--url URL]',
      );
      console.error('       mupza-comms tenant list [--url URL]');
      return 2;
    }
    const id = flag(args, 'id');
    const name = flag(args, 'name');
    if (!id || !name) {
      console.error('--id (lowercase, digits, _ -) and --name are required');
      return 2;
    }
    const prefixes = flag(args, 'otp-prefixes');
    const body = {
      id,
      name,
      country: flag(args, 'country') ?? 'AZ',
      currency: flag(args, 'currency') ?? 'AZN',
      timezone: flag(args, 'timezone') ?? 'Asia/Baku',
      locale: flag(args, 'locale') ?? 'az',
      ...(flag(args, 'owner-phone') === undefined ? {} : { ownerPhone: flag(args, 'owner-phone') }),
      ...(prefixes === undefined
        ? {}
        : {
            otpAllowedPrefixes: prefixes
              .split(',')
              .map((x) => x.trim())
              .filter(Boolean),
          }),
    };
    return runOperatorAction(args, config(), {
      command: 'tenant create',
      method: 'POST',
      path: '/api/v1/admin/tenants',
      body,
      store: (db) => createTenantWithOwner(db, body, 'operator:cli'),
    });
  },

  async owner(args, config) {
    const tenant = flag(args, 'tenant');
    const phone = flag(args, 'phone');
    const op = args[0] === 'phone' ? args[1] : undefined;
    if ((op !== 'add' && op !== 'remove') || !tenant || !phone) {
      console.error(
        'usage: mupza-comms owner phone add --tenant ID --phone +994… [--owner-id ID] [--url URL]',
      );
      console.error('       mupza-comms owner phone remove --tenant ID --phone +994… [--url URL]');
      return 2;
    }
    const t = encodeURIComponent(tenant);
    if (op === 'add') {
      const ownerId = flag(args, 'owner-id');
      const body = { phone, ...(ownerId === undefined ? {} : { ownerId }) };
      return runOperatorAction(args, config(), {
        command: 'owner phone add',
        method: 'POST',
        path: `/api/v1/admin/tenants/${t}/owner-phones`,
        body,
        store: (db) => addTenantOwnerPhone(db, { tenant }, body, 'operator:cli'),
      });
    }
    return runOperatorAction(args, config(), {
      command: 'owner phone remove',
      method: 'DELETE',
      path: `/api/v1/admin/tenants/${t}/owner-phones/${encodeURIComponent(phone)}`,
      store: (db) => removeTenantOwnerPhone(db, { tenant, phone }, 'operator:cli'),
      done: { removed: { tenant, phone } },
    });
  },

  async audit(args, config) {
    if (args[0] !== 'verify') {
      console.error(
        'usage: mupza-comms audit verify [--tenant ID] [--token OWNER_TOKEN --url URL while the service runs]',
      );
      return 2;
    }
    const cfg = config();
    const target = await reach(args, cfg, 'audit verify');
    if (target.kind === 'service') {
      const token = readThroughService(args, cfg, target, 'audit verify');
      if (!token) return 2;
      const me = (await callService(cfg, target.url, 'GET', '/api/v1/me', token)) as {
        tenant: { id: string };
      };
      const r = (await callService(cfg, target.url, 'GET', '/api/v1/audit/verify', token)) as Awaited<
        ReturnType<typeof verifyTenant>
      >;
      console.log(auditLine(me.tenant.id, r));
      return r.ok ? 0 : 1;
    }
    const db = target.db;
    try {
      const only = flag(args, 'tenant');
      const tenants = only
        ? [only]
        : (await db.query<{ id: string }>('SELECT id FROM tenants ORDER BY id')).rows.map((r) => r.id);
      let ok = true;
      for (const t of tenants) {
        while ((await sealTenant(db, t)) > 0);
        const r = await verifyTenant(db, t);
        ok &&= r.ok;
        console.log(auditLine(t, r));
      }
      return ok ? 0 : 1;
    } finally {
      await db.close();
    }
  },

  /** Enqueue through a running service with the typed client: integrators' smoke test. */
  async send(args, config) {
    const url = (flag(args, 'url') ?? defaultServiceUrl(config())).replace(/\/+$/, '');
    const token = flag(args, 'token');
    const channel = flag(args, 'channel');
    const target = flag(args, 'target');
    if (!token || !channel || !target) {
      console.error(
        'usage: mupza-comms send --token T --channel email|whatsapp|telegram|in_app|otp_sms --target X [--body TEXT] [--subject S] [--title T] [--url http://HOST:PORT]',
      );
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
      // fetch failed: nothing listens there, or the name does not resolve; say where we tried.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      console.error(
        new ServiceUnreachableError(
          url,
          cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err)),
        ).message,
      );
      return 1;
    }
  },

  async outbox(args, config) {
    const cfg = config();
    const status = flag(args, 'status') ?? null;
    const target = await reach(args, cfg, 'outbox');
    if (target.kind === 'service') {
      const token = readThroughService(args, cfg, target, 'outbox');
      if (!token) return 2;
      const page = (await callService(
        cfg,
        target.url,
        'GET',
        `/api/v1/outbox?limit=50${status ? `&status=${encodeURIComponent(status)}` : ''}`,
        token,
      )) as {
        items: {
          id: string;
          channel: string;
          target: string;
          status: string;
          reason: string | null;
          title: string | null;
          createdAt: string;
        }[];
      };
      console.table(
        page.items.map((x) => ({
          id: x.id,
          channel: x.channel,
          target: x.target,
          status: x.status,
          reason: x.reason,
          title: x.title,
          created_at: x.createdAt,
        })),
      );
      return 0;
    }
    const db = target.db;
    try {
      const tenant = flag(args, 'tenant') ?? 'demo';
      const r = await db.query<{
        id: string;
        channel: string;
        target: string;
        status: string;
        reason: string | null;
        title: string | null;
        created_at: Date;
      }>(
        `SELECT id, channel, target, status, reason, title, created_at FROM outbox WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY created_at DESC LIMIT 50`,
        [tenant, status],
      );
      console.table(
        r.rows.map((x) => ({
          ...x,
          target: maskTarget(x.target, x.channel),
          created_at: new Date(x.created_at).toISOString(),
        })),
      );
      return 0;
    } finally {
      await db.close();
    }
  },

  // On-demand provider credential check; sends no message. Exit 0 = verified, 1 = refused.
  async providers(args, config) {
    const id = args[1];
    if (args[0] !== 'verify' || !id) {
      console.error(
        `usage: mupza-comms providers verify <${ADAPTER_IDS.filter((a) => a !== 'lan_hub').join('|')}> [--json]`,
      );
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
      const r = await runVerification(
        registry.get(adapterId),
        cfg.env.COMMS_PROVIDER_TIMEOUT_MS + 1_000,
        redactor,
      );
      console.log(
        args.includes('--json')
          ? JSON.stringify(r, null, 2)
          : `${adapterId}: ${r.ok ? 'verified' : 'NOT verified'} at ${r.at} — ${r.detail}`,
      );
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
    const target = await reach(args, cfg, 'telegram set-webhook');
    if (target.kind === 'service') {
      const held = target.holder
        ? ` (pid ${target.holder.pid}) holds ${cfg.env.DATA_DIR}`
        : ` at ${target.url} was named`;
      console.error(`The service${held}: stop it, then run telegram set-webhook again.`);
      return 1;
    }
    const db = target.db;
    try {
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
    if (args[0] !== 'map-number' || !phone || !tenant) {
      console.error(
        'usage: mupza-comms whatsapp map-number --phone-number-id DIGITS --tenant ID [--url URL]',
      );
      return 2;
    }
    const body = { tenant };
    return runOperatorAction(args, config(), {
      command: 'whatsapp map-number',
      method: 'PUT',
      path: `/api/v1/admin/whatsapp/numbers/${encodeURIComponent(phone)}`,
      body,
      store: (db) => mapWhatsAppNumber(db, { phoneNumberId: phone }, body, 'operator:cli'),
    });
  },

  // Reference LAN device: notifications as JSON lines on stdout (status on stderr), each acked.
  async device(args, config) {
    if (args[0] === 'add' || args[0] === 'token') return deviceAdmin(args, config);
    const url =
      flag(args, 'url') ??
      (args[0] === 'connect' ? `${defaultServiceUrl(config(), 'ws')}${WS_PATH}` : undefined);
    const tokenFile = flag(args, 'token-file');
    const token = flag(args, 'token') ?? (tokenFile ? (await readFile(tokenFile, 'utf8')).trim() : undefined);
    if (args[0] !== 'connect' || !url || !token) {
      console.error(
        'usage: mupza-comms device connect [--url ws://HOST:PORT/api/v1/lan/ws] (--token TOKEN | --token-file PATH) [--after SEQ] [--count N] [--no-ack] [--auth-message]',
      );
      console.error(
        '       mupza-comms device add --tenant ID --id DEVICE --role pos|waiter|kitchen|printer --name NAME [--url URL]',
      );
      console.error('       mupza-comms device token --tenant ID --id DEVICE [--url URL]');
      return 2;
    }
    const after = flag(args, 'after');
    const count = flag(args, 'count');
    if ((after !== undefined && !/^\d+$/.test(after)) || (count !== undefined && !/^[1-9]\d*$/.test(count))) {
      console.error('--after and --count take whole numbers');
      return 2;
    }
    // The device SDK (mupzaos-comms/device), as integrators use it. It always authenticates with
    // its first message; --auth-message is accepted for older scripts.
    const client = new DeviceClient({
      url,
      token,
      after: after === undefined ? undefined : Number(after),
      autoAck: !args.includes('--no-ack'),
    });
    return new Promise<number>((resolve) => {
      let received = 0;
      let finished = false;
      let namedUrl = false;
      const done = (code: number) => {
        if (finished) return;
        finished = true;
        client.close();
        // Let the final ack and the close frame leave before the process may exit.
        setTimeout(() => resolve(code), 50);
      };
      client.on('hello', (h) => console.error(JSON.stringify({ type: 'hello', ...h })));
      client.on('protocolError', (e) => console.error(JSON.stringify({ type: 'error', ...e })));
      client.on('internet', (state) => console.error(JSON.stringify({ type: 'status', internet: state })));
      client.on('connection', (c) => {
        if (c.state !== 'closed' || c.cause === 'stopped') return;
        console.error(
          JSON.stringify({
            type: 'closed',
            code: c.code ?? null,
            cause: c.cause,
            retryInMs: c.retryInMs ?? null,
          }),
        );
        if (c.retryInMs === undefined) done(1);
        else if (!namedUrl && c.cause === 'hub_unreachable') {
          // A hub may be restarting: the client keeps retrying; say once where it is trying.
          namedUrl = true;
          console.error(`Could not reach ${url}; retrying.`);
        }
      });
      client.on('notification', (n) => {
        console.log(JSON.stringify({ type: 'notification', ...n }));
        // Close after the ack of this burst went out (acks are sent after the listeners ran).
        if (count !== undefined && ++received >= Number(count)) setImmediate(() => done(0));
      });
      process.once('SIGINT', () => done(0));
      process.once('SIGTERM', () => done(0));
      // Rejects only on a final refusal (bad token, revoked), already reported by its close.
      client.connect().catch((err: Error) => console.error(`${url}: ${err.message}`));
    });
  },

  // A test ESC/POS network printer: tickets it prints go to stdout.
  printer: (args) => printerCommand(args),
};

/** device add / device token: operator actions on a tenant's LAN devices. */
async function deviceAdmin(args: string[], config: () => Config): Promise<number> {
  const tenant = flag(args, 'tenant');
  const id = flag(args, 'id');
  if (!tenant || !id) {
    console.error(
      'usage: mupza-comms device add --tenant ID --id DEVICE --role pos|waiter|kitchen|printer --name NAME [--url URL]',
    );
    console.error('       mupza-comms device token --tenant ID --id DEVICE [--url URL]');
    return 2;
  }
  const t = encodeURIComponent(tenant);
  if (args[0] === 'add') {
    const body = { id, role: flag(args, 'role'), name: flag(args, 'name') };
    return runOperatorAction(args, config(), {
      command: 'device add',
      method: 'POST',
      path: `/api/v1/admin/tenants/${t}/devices`,
      body,
      store: (db) => addTenantDevice(db, { tenant }, body, 'operator:cli'),
    });
  }
  return runOperatorAction(args, config(), {
    command: 'device token',
    method: 'POST',
    path: `/api/v1/admin/tenants/${t}/devices/${encodeURIComponent(id)}/token`,
    store: (db) => newTenantDeviceToken(db, { tenant, device: id }, 'operator:cli'),
  });
}
