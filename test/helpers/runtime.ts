import { Writable } from 'node:stream';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { Runtime, type RuntimeOptions } from '../../src/app/runtime.ts';
import { defaultModules } from '../../src/app/modules.ts';
import { createTestDb, type DriverKind, type TestDb } from './db.ts';
import { CANARIES, checkForCanaries } from './canary.ts';
import { newToken, storeToken } from '../../src/store/tokens.ts';
import { createTenant } from '../../src/store/tenants.ts';
import type { Db } from '../../src/store/driver.ts';

export const BASE_ENV: Record<string, string> = {
  MUPZA_RUNTIME: 'qa',
  LOG_LEVEL: 'info',
  COMMS_POLL_MS: '200',
  COMMS_RETRY_BASE_MS: '50',
  COMMS_RETRY_CAP_MS: '2000',
};

/** Config for tests: quiet defaults, plus `env`; `canaries: true` sets every secret to its canary. */
export function testConfig(
  env: Record<string, string | undefined> = {},
  opts: { canaries?: boolean } = {},
): Config {
  return loadConfig({ ...BASE_ENV, ...(opts.canaries ? CANARIES : {}), ...env });
}

/** Captures log lines (after the logger's own scrubbing) and checks each for canaries. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    const text = chunk.toString('utf8');
    for (const line of text.split('\n').filter(Boolean)) {
      this.lines.push(line);
      checkForCanaries('log', line);
    }
    cb();
  }
  parsed(): Record<string, unknown>[] {
    return this.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}

export interface TestApp {
  rt: Runtime;
  db: Db;
  kind: DriverKind;
  url: string | null;
  logs: LogCapture;
  /** Owner token of the test tenant "acme" (and demo when seeded). */
  ownerToken: string;
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** inject with the owner token. */
  as(token: string, opts: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface TestAppOptions extends Omit<RuntimeOptions, 'db' | 'logDestination'> {
  env?: Record<string, string | undefined>;
  canaries?: boolean;
  /** Reuse a database (e.g. a second process view); otherwise a fresh one is made. */
  testDb?: TestDb;
  start?: boolean;
  optIns?: Record<string, boolean>;
}

export async function createTestApp(kind: DriverKind, o: TestAppOptions = {}): Promise<TestApp> {
  const tdb = o.testDb ?? (await createTestDb(kind));
  const logs = new LogCapture();
  const config = testConfig(o.env, { canaries: o.canaries ?? true });
  const rt = new Runtime(config, {
    ...o,
    modules: o.modules ?? defaultModules(config),
    db: tdb.db,
    logDestination: logs,
    seedDemo: o.seedDemo ?? false,
  });
  await rt.init();
  const ownerToken = newToken('owner');
  await tdb.db.tx(async (q) => {
    await createTenant(
      q,
      {
        id: 'acme',
        name: 'Acme Kebab',
        country: 'AZ',
        currency: 'AZN',
        timezone: 'Asia/Baku',
        locale: 'az',
        optIns: o.optIns ?? { in_app: true, email: true, telegram: true, whatsapp: true, otp_sms: true },
      },
      'test',
    );
    await storeToken(q, { token: ownerToken, tenantId: 'acme', role: 'owner', subject: 'acme-owner' });
  });
  if (o.start ?? true) await rt.start();
  const inject = async (opts: InjectOptions) => {
    const res = await rt.http!.inject(opts);
    checkForCanaries(
      `response ${opts.method ?? 'GET'} ${String(opts.url)}`,
      res.body + JSON.stringify(res.headers),
    );
    return res;
  };
  return {
    rt,
    db: tdb.db,
    kind,
    url: tdb.url,
    logs,
    ownerToken,
    inject,
    as: (token, opts) =>
      inject({ ...opts, headers: { ...(opts.headers ?? {}), authorization: `Bearer ${token}` } }),
    async close() {
      await rt.stop();
      await scanDbForCanaries(tdb.db);
      if (!o.testDb) await tdb.cleanup();
    },
  };
}

/** Every text column of every table, checked for canaries. */
export async function scanDbForCanaries(db: Db): Promise<void> {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  for (const { table_name } of tables.rows) {
    const r = await db.query<{ t: string }>(
      `SELECT coalesce(string_agg(x::text, '\n'), '') AS t FROM "${table_name}" x`,
    );
    checkForCanaries(`db ${table_name}`, r.rows[0]?.t ?? '');
  }
}

/** Waits until `fn` returns a truthy value (polling), or throws after `ms`. */
export async function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  ms = 10_000,
  every = 25,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`waitFor timed out after ${ms} ms${last ? `: ${String(last)}` : ''}`);
}
