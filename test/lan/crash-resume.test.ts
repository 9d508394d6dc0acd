import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { CLI_FROM_SOURCES, freePort, startChild, type ChildService } from '../helpers/child.ts';
import { waitFor } from '../helpers/runtime.ts';
import type { NotificationMessage } from '../../src/lan/protocol.ts';
import { connectDevice } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OWNER = 'mz_owner_lan-crash-test-bootstrap-0001';
const N = 500;

async function inAppRows(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^comms_outbox_rows\{status="(\w+)",channel="in_app"\} (\d+)/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${OWNER}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The reference client as integrators run it: `mupza-comms device connect`, JSON lines on stdout. */
function deviceCli(
  url: string,
  token: string,
  count: number,
): Promise<{ code: number | null; lines: NotificationMessage[]; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      [...CLI_FROM_SOURCES, 'device', 'connect', '--url', url, '--token', token, '--count', String(count)],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    p.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const killer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (code) => {
      clearTimeout(killer);
      resolve({
        code,
        lines: out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as NotificationMessage),
        stderr: err,
      });
    });
  });
}

for (const kind of await drivers()) {
  describe(`inboxes survive SIGKILL of the server [${kind}]`, () => {
    const children: ChildService[] = [];
    let tdb: TestDb | null = null;
    let dataDir: string | null = null;
    afterAll(async () => {
      for (const c of children) await c.kill();
      await tdb?.cleanup();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it(`${N} notifications for an offline device, server killed mid-dispatch and restarted: the device gets all ${N}, seqs 1..${N}, each once`, async () => {
      const port = await freePort();
      const env: Record<string, string> = {
        PORT: String(port),
        HOST: '127.0.0.1',
        COMMS_BOOTSTRAP_OWNER_TOKEN: OWNER,
        COMMS_LEASE_MS: '1500',
        COMMS_BATCH_SIZE: '20',
        COMMS_POLL_MS: '200',
      };
      if (kind === 'postgres') {
        tdb = await createTestDb('postgres');
        env.DATABASE_URL = tdb.url!;
      } else {
        dataDir = await mkdtemp(join(tmpdir(), 'comms-lan-crash-'));
        env.DATA_DIR = dataDir;
      }
      const base = `http://127.0.0.1:${port}`;
      const ws = `ws://127.0.0.1:${port}/api/v1/lan/ws`;
      const first = startChild('serve', env);
      children.push(first);
      await first.waitForLine(/API and owner panel on/, 60_000);

      const reg = await api(base, 'POST', '/api/v1/lan/devices', {
        id: 'kds-1',
        role: 'kitchen',
        name: 'Kitchen screen 1',
      });
      expect(reg.status).toBe(201);
      const token = reg.json.token as string;
      // The device has been here before (it knows the hub), then goes offline.
      const device = await connectDevice(ws, token);
      expect(device.hello).toMatchObject({ lastSeq: 0 });
      await device.close();

      // One batch (one transaction), due times 15 ms apart starting 1.5 s ahead: all rows are accepted
      // first, then dispatched in order over about 7.5 s, during which the server is killed.
      const start = Date.now() + 1_500;
      const batch = await api(base, 'POST', '/api/v1/outbox/batch', {
        messages: Array.from({ length: N }, (_, i) => ({
          channel: 'in_app',
          target: i % 2 ? 'kds-1' : 'role:kitchen',
          title: `Ticket #${i + 1}`,
          body: `Order ${i + 1}`,
          source: 'kitchen_desktop',
          sendAt: new Date(start + i * 15).toISOString(),
        })),
      });
      expect(batch.status).toBe(202);
      const ids = (batch.json.items as { id: string }[]).map((x) => x.id);
      expect(ids).toHaveLength(N);
      // SIGKILL while rows are moving into the inbox, not before and not after.
      await waitFor(
        async () => {
          const r = await inAppRows(base);
          return (r.sent ?? 0) > 0 && (r.sent ?? 0) < N - 20;
        },
        90_000,
        2,
      );
      await first.kill('SIGKILL');

      const second = startChild('serve', env);
      children.push(second);
      await second.waitForLine(/API and owner panel on/, 60_000);

      const run = await deviceCli(ws, token, N);
      expect(run.code, run.stderr).toBe(0);
      const got = run.lines;
      expect(got).toHaveLength(N);
      got.forEach((n, i) => expect(n.seq, `notification ${i}`).toBe(i + 1));
      expect(new Set(got.map((n) => n.id))).toEqual(new Set(ids));

      // The CLI acked everything: every row ends delivered (rows caught mid-send were re-sent after
      // their lease expired and landed in the inbox once).
      await waitFor(async () => ((await inAppRows(base)).delivered ?? 0) >= N, 30_000, 100);

      // One more while it is away: the CLI takes exactly that one, acks it and exits.
      const one = await api(base, 'POST', '/api/v1/lan/notifications', {
        target: { device: 'kds-1' },
        title: 'Last call',
        body: 'Kitchen closes in 10 minutes',
        source: 'kitchen_desktop',
      });
      expect(one.status).toBe(202);
      const single = await deviceCli(ws, token, 1);
      expect(single.code, single.stderr).toBe(0);
      expect(single.lines).toEqual([
        expect.objectContaining({ seq: N + 1, id: one.json.id, title: 'Last call' }),
      ]);
      await waitFor(
        async () =>
          (await api(base, 'GET', `/api/v1/outbox/${one.json.id as string}`)).json.status === 'delivered',
        10_000,
        100,
      );
    }, 300_000);
  });
}
