import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Shared machinery for the local fake provider servers: a node:http server on 127.0.0.1:0, the fault
 * switch (hang / 5xx / 429 / malformed / reset), forced provider errors, and the receipt, rejection and
 * request logs. Each fake extends HttpFake and supplies its routes and its provider's error shapes.
 */

export type FaultKind = 'hang' | 'status5xx' | 'rate429' | 'malformed' | 'reset';

export interface FaultSpec {
  kind: FaultKind;
  /** How many requests the fault hits; undefined = every request until clearFault(). */
  times?: number;
  /** Used by 'rate429' (Retry-After header or body field, per provider). Default 1. */
  retryAfterSeconds?: number;
}

export interface FakeRequest {
  method: string;
  /** URL pathname, not decoded. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
  /** Media type of the body, lower-cased, without parameters ('' when absent). */
  contentType: string;
}

export interface FakeResponse {
  status: number;
  /** Serialised with JSON.stringify and sent as application/json unless `text` is given. */
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export interface Receipt<T> {
  /** Clock time (ms, from the injected clock) when the fake accepted the request. */
  at: number;
  method: string;
  path: string;
  body: T;
}

export interface Rejection {
  at: number;
  method: string;
  path: string;
  /** HTTP status answered; null when the fault gave no answer (hang, reset). */
  status: number | null;
  reason: string;
  /** Provider error code, when one was answered. */
  code?: number | string;
}

export interface ForcedError<C> {
  code: C;
  remaining: number;
}

export interface HttpFakeOptions {
  now?: () => number;
}

/** A refusal the route handlers throw; the base answers it and logs the rejection. */
export class FakeRefusal extends Error {
  constructor(
    readonly response: FakeResponse,
    readonly reason: string,
    readonly code?: number | string,
  ) {
    super(reason);
  }
}

export abstract class HttpFake<TReceipt, TCode = number> {
  readonly receipts: Receipt<TReceipt>[] = [];
  readonly rejections: Rejection[] = [];
  readonly now: () => number;
  private server: http.Server | undefined;
  private baseUrl = '';
  private fault: FaultSpec | undefined;
  private faultRemaining: number | undefined;
  private forced: ForcedError<TCode>[] = [];
  private requests = 0;

  constructor(options: HttpFakeOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  get url(): string {
    return this.baseUrl;
  }

  /** Every request that reached the server, whatever the outcome. */
  get requestCount(): number {
    return this.requests;
  }

  setFault(fault: FaultSpec): void {
    this.fault = fault;
    this.faultRemaining = fault.times;
  }

  /** Clears the fault switch and any queued forced errors. */
  clearFault(): void {
    this.fault = undefined;
    this.faultRemaining = undefined;
    this.forced = [];
  }

  async listen(): Promise<this> {
    const server = http.createServer((req, res) => void this.onRequest(req, res));
    // Fakes answer fast; a short keep-alive keeps idle sockets from outliving a test file.
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  /** Stops the server and destroys every socket, including requests held open by 'hang'. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.onClose();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Provider-specific routing; throw FakeRefusal to refuse. */
  protected abstract handle(req: FakeRequest): Promise<FakeResponse> | FakeResponse;

  /** The provider's answer for a 'status5xx' fault. */
  protected abstract serverErrorResponse(): FakeResponse;

  /** The provider's rate-limit answer for a 'rate429' fault. */
  protected abstract rateLimitResponse(retryAfterSeconds: number): FakeResponse;

  /** Hook for subclasses to cancel timers on close. */
  protected onClose(): void {}

  protected queueForcedError(code: TCode, times = 1): void {
    if (!Number.isInteger(times) || times < 1)
      throw new Error(`forceError: times must be a positive integer`);
    this.forced.push({ code, remaining: times });
  }

  /** Takes the next forced error code, if any (FIFO, each entry used `times` times). */
  protected takeForcedError(): TCode | undefined {
    const head = this.forced[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.forced.shift();
    return head.code;
  }

  protected recordReceipt(req: FakeRequest, body: TReceipt): Receipt<TReceipt> {
    const receipt = { at: this.now(), method: req.method, path: req.path, body };
    this.receipts.push(receipt);
    return receipt;
  }

  private takeFault(): FaultSpec | undefined {
    const fault = this.fault;
    if (!fault) return undefined;
    if (this.faultRemaining !== undefined) {
      this.faultRemaining -= 1;
      if (this.faultRemaining <= 0) {
        this.fault = undefined;
        this.faultRemaining = undefined;
      }
    }
    return fault;
  }

  private reject(req: FakeRequest, status: number | null, reason: string, code?: number | string): void {
    const entry: Rejection = { at: this.now(), method: req.method, path: req.path, status, reason };
    if (code !== undefined) entry.code = code;
    this.rejections.push(entry);
  }

  private async onRequest(raw: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.requests += 1;
    let req: FakeRequest;
    try {
      req = await readRequest(raw);
    } catch {
      raw.socket.destroy();
      return;
    }
    const fault = this.takeFault();
    if (fault) {
      this.reject(req, faultStatus(fault.kind), `fault:${fault.kind}`);
      switch (fault.kind) {
        case 'hang':
          return; // never answered; close() destroys the socket
        case 'reset':
          raw.socket.destroy();
          return;
        case 'malformed':
          // Claims JSON but is not: the nastiest shape a proxy or a truncated body can produce.
          return send(res, {
            status: 200,
            text: '{"truncated": <html>',
            headers: { 'content-type': 'application/json' },
          });
        case 'status5xx':
          return send(res, this.serverErrorResponse());
        case 'rate429':
          return send(res, this.rateLimitResponse(fault.retryAfterSeconds ?? 1));
      }
    }
    let out: FakeResponse;
    try {
      out = await this.handle(req);
    } catch (err) {
      if (err instanceof FakeRefusal) {
        this.reject(req, err.response.status, err.reason, err.code);
        out = err.response;
      } else {
        this.reject(req, 500, `fake bug: ${(err as Error).message}`);
        out = { status: 500, text: `fake server bug: ${(err as Error).message}` };
      }
    }
    send(res, out);
  }
}

function faultStatus(kind: FaultKind): number | null {
  if (kind === 'status5xx') return 500;
  if (kind === 'malformed') return 200;
  return kind === 'rate429' ? 429 : null;
}

async function readRequest(raw: http.IncomingMessage): Promise<FakeRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of raw) chunks.push(chunk as Buffer);
  const url = new URL(raw.url ?? '/', 'http://127.0.0.1');
  const contentType = (raw.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return {
    method: raw.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: raw.headers,
    rawBody: Buffer.concat(chunks),
    contentType,
  };
}

function send(res: http.ServerResponse, out: FakeResponse): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...(out.headers ?? {}) };
  let body: string;
  if (out.text !== undefined) {
    body = out.text;
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  } else {
    body = out.json === undefined ? '' : JSON.stringify(out.json);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(out.status, headers);
  res.end(body);
}

/** Parses an application/x-www-form-urlencoded body into a map; repeated names become arrays. */
export function parseForm(raw: Buffer): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Parses a JSON body; undefined when it is not valid JSON. */
export function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface WebhookDelivery {
  at: number;
  url: string;
  /** The exact bytes posted. */
  rawBody: string;
  headers: Record<string, string>;
  /** HTTP status the receiver answered; null when the POST failed at the transport level. */
  status: number | null;
  responseText: string;
  error?: string;
}

/** Posts a webhook the way a provider does (raw body as given) and reports what the receiver said. */
export async function postWebhook(
  url: string,
  rawBody: string,
  headers: Record<string, string>,
  at: number,
  timeoutMs = 5000,
): Promise<WebhookDelivery> {
  const all = { 'content-type': 'application/json', ...headers };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: all,
      body: rawBody,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { at, url, rawBody, headers: all, status: res.status, responseText: await res.text() };
  } catch (err) {
    return { at, url, rawBody, headers: all, status: null, responseText: '', error: (err as Error).message };
  }
}
