import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback receiver for the webhooks the fakes post (WhatsApp statuses/inbound, Telegram updates),
 * for tests that exercise a fake without the real webhook routes. Keeps the raw body bytes so tests
 * can check signatures exactly as a receiver must.
 */

export interface SinkRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
}

export interface WebhookSink {
  url: string;
  received: SinkRequest[];
  /** Status the sink answers with (default 200). */
  respondWith(status: number, body?: string): void;
  /** Resolves once `count` requests have arrived in total. */
  waitFor(count: number, timeoutMs?: number): Promise<SinkRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const received: SinkRequest[] = [];
  let status = 200;
  let body = 'ok';
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        rawBody: Buffer.concat(chunks),
      });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
      for (const w of waiters.filter((x) => received.length >= x.count)) w.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    respondWith(s, b = '') {
      status = s;
      body = b;
    },
    waitFor(count, timeoutMs = 3000) {
      if (received.length >= count) return Promise.resolve(received);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`webhook sink: ${received.length}/${count} requests after ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(received);
          },
        });
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
