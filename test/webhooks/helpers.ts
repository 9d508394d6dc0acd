import { request } from 'node:http';
import type { LightMyRequestResponse } from 'fastify';
import type { RuntimeModule as ServiceModule } from '../../src/app/runtime.ts';
import { auditModule } from '../../src/audit/module.ts';
import { lanModule } from '../../src/lan/module.ts';
import { providersModule } from '../../src/providers/module.ts';
import {
  webhooksModule,
  type WebhooksModule,
  type WebhooksModuleOptions,
} from '../../src/webhooks/module.ts';
import { signWhatsAppBody, toMetaJson } from '../fakes/whatsapp-cloud.ts';
import { CANARIES } from '../helpers/canary.ts';
import type { TestApp } from '../helpers/runtime.ts';
import { waitFor } from '../helpers/runtime.ts';

export const PHONE_ID = '106540352242922';

/** The service's default modules, with the webhooks module built from `opts` (hooks for tests). */
export function modulesWith(opts: WebhooksModuleOptions = {}): {
  modules: ServiceModule[];
  webhooks: WebhooksModule;
} {
  const webhooks = webhooksModule(opts);
  return { modules: [auditModule(), providersModule(), lanModule(), webhooks], webhooks };
}

/** Meta-style raw bytes of a payload and its X-Hub-Signature-256 with the configured app secret. */
export function metaSigned(
  payload: unknown,
  secret = CANARIES.WHATSAPP_APP_SECRET!,
): { raw: string; signature: string } {
  const raw = toMetaJson(payload);
  return { raw, signature: signWhatsAppBody(raw, secret) };
}

export function postWhatsApp(
  app: TestApp,
  raw: string | Buffer,
  signature?: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/webhooks/whatsapp',
    headers: {
      'content-type': 'application/json',
      ...(signature === undefined ? {} : { 'x-hub-signature-256': signature }),
    },
    payload: raw,
  });
}

/** Posts an Update; `header` defaults to the path secret, null leaves the header out. */
export function postTelegram(
  app: TestApp,
  update: unknown,
  secret = CANARIES.TELEGRAM_WEBHOOK_SECRET!,
  header: string | null = secret,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/telegram/webhook/${secret}`,
    headers: {
      'content-type': 'application/json',
      ...(header === null ? {} : { 'x-telegram-bot-api-secret-token': header }),
    },
    payload: JSON.stringify(update),
  });
}

export async function count(
  app: TestApp,
  table: string,
  where = 'true',
  params: unknown[] = [],
): Promise<number> {
  const r = await app.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`,
    params,
  );
  return r.rows[0]!.n;
}

/** Waits until every stored delivery has been processed (processed_at is set in the applying transaction). */
export async function settledReceipts(app: TestApp, ms = 10_000): Promise<void> {
  await waitFor(async () => (await count(app, 'webhook_receipts', 'processed_at IS NULL')) === 0, ms);
}

/** Row count of every table, and the status of every outbox row: a picture of all business state. */
export async function snapshot(
  app: TestApp,
  exclude: readonly string[],
): Promise<{ tables: Record<string, number>; outbox: Record<string, string> }> {
  const t = await app.db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const tables: Record<string, number> = {};
  for (const { table_name } of t.rows)
    if (!exclude.includes(table_name)) tables[table_name] = await count(app, `"${table_name}"`);
  const o = await app.db.query<{ id: string; status: string; updated_at: Date }>(
    'SELECT id::text, status, updated_at FROM outbox ORDER BY id',
  );
  return {
    tables,
    outbox: Object.fromEntries(
      o.rows.map((r) => [r.id, `${r.status}@${new Date(r.updated_at).toISOString()}`]),
    ),
  };
}

/**
 * POSTs `chunks` over real HTTP with Transfer-Encoding: chunked and no Content-Length, so the server
 * can only learn the size while reading. Resolves with the answer, even if the server stops reading.
 */
export function postChunked(
  base: string,
  path: string,
  headers: Record<string, string>,
  chunks: readonly Buffer[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    // The server answers 413 and may close before every chunk is written: that is not a failure.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    for (const c of chunks) req.write(c);
    req.end();
  });
}
