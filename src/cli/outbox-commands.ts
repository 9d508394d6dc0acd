import { CommsApiError, CommsClient } from '../client/index.ts';
import { maskTarget } from '../core/redact.ts';
import { recentOutbox } from '../store/sql/outbox-read.ts';
import { flag, type CliCommand } from './command.ts';
import {
  callService,
  defaultServiceUrl,
  reach,
  readThroughService,
  ServiceUnreachableError,
} from './service-link.ts';

/** Enqueue through a running service with the typed client: integrators' smoke test. */
export const sendCommand: CliCommand = async (args, config) => {
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
};

export const outboxCommand: CliCommand = async (args, config) => {
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
    const tenant = flag(args, 'tenant') ?? cfg.defaultTenant;
    const rows = await recentOutbox(db, tenant, status);
    console.table(
      rows.map((x) => ({
        ...x,
        target: maskTarget(x.target, x.channel),
        created_at: new Date(x.created_at).toISOString(),
      })),
    );
    return 0;
  } finally {
    await db.close();
  }
};
