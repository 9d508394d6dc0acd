import { CANARIES, checkForCanaries } from '../helpers/canary.ts';
import { freePort, startChild, type ChildService } from '../helpers/child.ts';
import { WhatsAppFake } from '../fakes/whatsapp-cloud.ts';
import { TelegramFake, startTelegramFake } from '../fakes/telegram-bot.ts';
import { startLoopbackSmtp, type LoopbackSmtp } from '../providers/smtp-server.ts';
import { CuttableProxy } from './proxy.ts';

/**
 * The multi-process stack of the fault suites: the provider fakes (each behind a proxy that can cut
 * it off), one `mupza-comms api` process and N `mupza-comms dispatch` processes, all live
 * (production runtime, external sends enabled, provider env pointing at the fakes).
 */

export const ADMIN_TOKEN = CANARIES.COMMS_ADMIN_TOKEN!;
export const WA_PHONE_ID = '106540352242922';

export interface Fakes {
  wa: WhatsAppFake;
  tg: TelegramFake;
  smtp: LoopbackSmtp;
  proxies: { wa: CuttableProxy; tg: CuttableProxy; smtp: CuttableProxy };
  close(): Promise<void>;
}

export async function startFakes(opts: { telegramPerSecond?: number } = {}): Promise<Fakes> {
  const wa = await new WhatsAppFake({
    accessToken: CANARIES.WHATSAPP_ACCESS_TOKEN!,
    phoneNumberId: WA_PHONE_ID,
    appSecret: CANARIES.WHATSAPP_APP_SECRET!,
  }).listen();
  const rate = opts.telegramPerSecond ?? 30;
  const tg = await startTelegramFake({
    token: CANARIES.TELEGRAM_BOT_TOKEN!,
    globalPerSecond: rate,
    globalBurst: rate,
  });
  const smtp = await startLoopbackSmtp({ user: 'mupza', pass: CANARIES.SMTP_PASS! });
  const port = (u: string) => Number(new URL(u).port);
  const proxies = {
    wa: await new CuttableProxy({ host: '127.0.0.1', port: port(wa.url) }).up(),
    tg: await new CuttableProxy({ host: '127.0.0.1', port: port(tg.url) }).up(),
    smtp: await new CuttableProxy({ host: '127.0.0.1', port: smtp.port }).up(),
  };
  return {
    wa,
    tg,
    smtp,
    proxies,
    async close() {
      for (const p of Object.values(proxies)) await p.cut();
      await wa.close();
      await tg.close();
      await smtp.close();
    },
  };
}

/** Env of every process of the stack: live sends to the fakes, through their proxies. */
export function liveEnv(
  fakes: Fakes,
  databaseUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    MUPZA_RUNTIME: 'production',
    COMMS_EXTERNAL_SENDS: 'enabled',
    COMMS_ADMIN_TOKEN: ADMIN_TOKEN,
    WHATSAPP_ACCESS_TOKEN: CANARIES.WHATSAPP_ACCESS_TOKEN!,
    WHATSAPP_PHONE_NUMBER_ID: WA_PHONE_ID,
    WHATSAPP_API_VERSION: 'v23.0',
    WHATSAPP_APP_SECRET: CANARIES.WHATSAPP_APP_SECRET!,
    WHATSAPP_VERIFY_TOKEN: CANARIES.WHATSAPP_VERIFY_TOKEN!,
    WHATSAPP_GRAPH_BASE_URL: fakes.proxies.wa.url,
    TELEGRAM_BOT_TOKEN: CANARIES.TELEGRAM_BOT_TOKEN!,
    TELEGRAM_API_BASE_URL: fakes.proxies.tg.url,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(fakes.proxies.smtp.port),
    SMTP_USER: 'mupza',
    SMTP_PASS: CANARIES.SMTP_PASS!,
    SMTP_FROM: 'MUPZAOS <noreply@mupza.az>',
    SMTP_IGNORE_TLS: 'true',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface Tenant {
  id: string;
  token: string;
  /** LAN device id → device token. */
  devices: Map<string, string>;
}

export class Stack {
  api!: ChildService;
  apiUrl = '';
  readonly dispatchers: (ChildService | null)[] = [];
  /** Every process ever started, for the canary check of their output. */
  readonly all: ChildService[] = [];
  /** pid → worker id prefix of every dispatcher started (worker ids are dispatcher:<host>:<pid>:…). */
  readonly killedPids = new Set<number>();
  /** Processes that exited without being told to (crashes), with the end of their output. */
  readonly crashes: {
    command: string;
    pid: number;
    code: number | null;
    signal: string | null;
    tail: string[];
  }[] = [];
  private readonly expectedExit = new WeakSet<ChildService>();

  private watch(c: ChildService, command: string): ChildService {
    c.proc.once('exit', (code, signal) => {
      if (!this.expectedExit.has(c))
        this.crashes.push({ command, pid: c.proc.pid!, code, signal, tail: c.output.slice(-80) });
    });
    return c;
  }

  private async stop(c: ChildService, signal: NodeJS.Signals): Promise<void> {
    this.expectedExit.add(c);
    await c.kill(signal);
  }

  constructor(private readonly env: Record<string, string>) {}

  async startApi(): Promise<void> {
    const port = await freePort();
    this.api = this.watch(startChild('api', { ...this.env, PORT: String(port) }), 'api');
    this.all.push(this.api);
    this.apiUrl = `http://127.0.0.1:${port}`;
    await this.api.waitForLine(/API and owner panel on/, 120_000);
  }

  /** Starts dispatcher `slot`; while the database is down it exits at once, so it is retried. */
  async startDispatcher(slot: number, deadlineMs = 120_000): Promise<ChildService> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const d = startChild('dispatch', { ...this.env, PORT: '0' });
      this.all.push(d);
      this.dispatchers[slot] = d;
      // A start while PostgreSQL is down exits at once: expected here, so not a crash.
      this.expectedExit.add(d);
      const exited = new Promise<'exit'>((r) => d.proc.once('exit', () => r('exit')));
      const ready = d.waitForLine(/MUPZAOS comms dispatch/, 60_000).then(() => 'ready' as const);
      const r = await Promise.race([ready, exited]).catch(() => 'exit' as const);
      // Killed by the nemesis while it was starting (the slot already held it): that exit is
      // expected, so it must not be watched as a crash.
      if (this.killedPids.has(d.proc.pid!)) return d;
      if (r === 'ready' && d.proc.exitCode === null) {
        this.expectedExit.delete(d);
        this.watch(d, `dispatch[${slot}]`);
        return d;
      }
      await d.kill();
      if (Date.now() > end) throw new Error(`dispatcher ${slot} did not start:\n${d.output.join('\n')}`);
      await new Promise((res) => setTimeout(res, 300));
    }
  }

  async kill9(slot: number): Promise<number> {
    const d = this.dispatchers[slot]!;
    const pid = d.proc.pid!;
    this.killedPids.add(pid);
    await this.stop(d, 'SIGKILL');
    this.dispatchers[slot] = null;
    return pid;
  }

  async request(
    path: string,
    init: { method?: string; token?: string; body?: unknown } = {},
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await res.text();
    checkForCanaries(`response ${path}`, text);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { raw: text };
    }
    return { status: res.status, json };
  }

  /** A tenant opted in to every channel, with LAN devices registered (kitchen screens and a POS). */
  async createTenant(id: string, devices: { id: string; role: string }[] = []): Promise<Tenant> {
    const created = await this.request('/api/v1/admin/tenants', {
      token: ADMIN_TOKEN,
      body: { id, name: `Restoran ${id}`, country: 'AZ', currency: 'AZN' },
    });
    if (created.status !== 201)
      throw new Error(`tenant ${id}: ${created.status} ${JSON.stringify(created.json)}`);
    const token = created.json.ownerToken as string;
    const policy = await this.request('/api/v1/tenant/policy', {
      method: 'PUT',
      token,
      body: { optIns: { whatsapp: true, telegram: true, email: true, in_app: true } },
    });
    if (policy.status !== 200)
      throw new Error(`policy ${id}: ${policy.status} ${JSON.stringify(policy.json)}`);
    const tokens = new Map<string, string>();
    for (const d of devices) {
      const r = await this.request('/api/v1/lan/devices', {
        token,
        body: { id: d.id, role: d.role, name: `${d.role} ${d.id}` },
      });
      if (r.status !== 201) throw new Error(`device ${d.id}: ${r.status} ${JSON.stringify(r.json)}`);
      tokens.set(d.id, r.json.token as string);
    }
    return { id, token, devices: tokens };
  }

  /** Checks everything the processes printed for secret values (the canary sweep of this file fails on any). */
  scanOutput(): void {
    for (const c of this.all) checkForCanaries(`process output (pid ${c.proc.pid})`, c.output.join('\n'));
  }

  async stopAll(): Promise<void> {
    for (const d of this.dispatchers) if (d) await this.stop(d, 'SIGTERM');
    if (this.api) await this.stop(this.api, 'SIGTERM');
    for (const c of this.all) await this.stop(c, 'SIGKILL');
  }
}
