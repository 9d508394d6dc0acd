import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { DeviceClient, type DeviceClientOptions } from '../../src/lan/device-client.ts';
import type { HelloMessage, NotificationMessage } from '../../src/lan/protocol.ts';
import { waitFor, type TestApp } from '../helpers/runtime.ts';

/** Starts the app's real HTTP server on a free port; returns its ws:// URL of the LAN socket. */
export async function listenLan(app: TestApp): Promise<{ http: string; ws: string }> {
  const addr = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
  return { http: addr, ws: `${addr.replace(/^http/, 'ws')}/api/v1/lan/ws` };
}

export async function registerDevice(
  app: TestApp,
  ownerToken: string,
  id: string,
  role = 'kitchen',
  name = id,
): Promise<string> {
  const res = await app.as(ownerToken, {
    method: 'POST',
    url: '/api/v1/lan/devices',
    payload: { id, role, name },
  });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { token: string }).token;
}

/** A reference client that records what it receives. */
export class RecordingDevice {
  readonly client: DeviceClient;
  readonly got: NotificationMessage[] = [];
  /** performance.now() when each entry of `got` arrived. */
  readonly gotAt: number[] = [];
  readonly closes: { code: number; reason: string; at: number }[] = [];
  hello: HelloMessage | null = null;

  constructor(opts: DeviceClientOptions) {
    this.client = new DeviceClient(opts);
    this.client.on('notification', (n: NotificationMessage) => {
      this.got.push(n);
      this.gotAt.push(performance.now());
    });
    this.client.on('close', (code: number, reason: string) =>
      this.closes.push({ code, reason, at: Date.now() }),
    );
  }

  async connect(): Promise<HelloMessage> {
    this.hello = await this.client.connect();
    return this.hello;
  }

  async waitForCount(n: number, ms = 15_000): Promise<NotificationMessage[]> {
    await waitFor(async () => this.got.length >= n, ms, 10);
    return this.got;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export async function connectDevice(
  ws: string,
  token: string,
  opts: Partial<DeviceClientOptions> = {},
): Promise<RecordingDevice> {
  const d = new RecordingDevice({ url: ws, token, ...opts });
  await d.connect();
  return d;
}

/** A device in its own process (test/lan/device-process.ts); `received`: outbox id → epoch ms. */
export interface DeviceProcess {
  received: Map<string, number>;
  close(): Promise<void>;
}

export async function spawnDevice(ws: string, token: string): Promise<DeviceProcess> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const proc = spawn(process.execPath, ['bin/run-ts.mjs', 'test/lan/device-process.ts', ws, token], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const received = new Map<string, number>();
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const ready = new Promise<void>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`the device process exited (${code}) before it connected`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { ready?: true; id?: string; at?: number };
      if (m.ready) resolve();
      else if (m.id !== undefined && m.at !== undefined) received.set(m.id, m.at);
    });
  });
  await ready;
  return {
    received,
    close: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** A raw ws client: the first server message and the close code, for protocol edge cases. */
export function rawSocket(
  url: string,
  headers: Record<string, string> = {},
  opts: WebSocket.ClientOptions = {},
): {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  refused: Promise<{ status: number; body: string }>;
} {
  const ws = new WebSocket(url, { headers, ...opts });
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Record<string, unknown>));
  ws.on('error', () => undefined);
  const opened = new Promise<void>((r) => ws.once('open', () => r()));
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.once('close', (code, reason) => r({ code, reason: reason.toString() })),
  );
  const refused = new Promise<{ status: number; body: string }>((r) =>
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => r({ status: res.statusCode ?? 0, body }));
    }),
  );
  return { ws, messages, opened, closed, refused };
}

export async function rowStatus(app: TestApp, ownerToken: string, id: string): Promise<string> {
  const r = await app.as(ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}` });
  return (r.json() as { status: string }).status;
}

/** Checks a received stream: seqs strictly increasing by one, each outbox id once. */
export function expectContiguous(got: readonly NotificationMessage[], firstSeq: number): void {
  got.forEach((n, i) => expect(n.seq, `notification ${i}`).toBe(firstSeq + i));
  expect(new Set(got.map((n) => n.id)).size).toBe(got.length);
}
