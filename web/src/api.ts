/**
 * The panel's only way to the server: one fetch wrapper that adds the owner token, turns error
 * bodies {error, message} into ApiError, and sends the user back to sign-in on a 401.
 */
import type {
  AuditEvent,
  AuthConfig,
  Channel,
  Device,
  HeldTicket,
  PrinterState,
  Me,
  OptIns,
  OutboxDetail,
  OutboxPage,
  PolicyAnswer,
  Readiness,
  Role,
  StatusAnswer,
  TelegramLink,
  WhatsAppUsage,
  TemplateInfo,
} from './types.ts';

const TOKEN_KEY = 'mupza.ownerToken';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Seconds from a Retry-After header, when the server sent one. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** status 0: the request never got an answer (network down, server stopped). */
export const NETWORK_ERROR = 'network_error';

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // sessionStorage unavailable (privacy mode): the session then lasts for this page only.
  }
}

/** A login link http://host:8080/#token=<token>: keep the token, then remove it from the address bar. */
export function takeTokenFromHash(): boolean {
  const hash = window.location.hash.replace(/^#/, '');
  const token = new URLSearchParams(hash).get('token');
  if (!token) return false;
  setToken(token);
  history.replaceState(null, '', window.location.pathname + window.location.search);
  return true;
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  /**
   * false for the sign-in calls: they carry no stored token (or the one being tried, in `token`),
   * and a 401 there is an error to show, not an ended session.
   */
  auth?: boolean;
  token?: string;
  signal?: AbortSignal;
  accept?: string;
}

async function send(path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
  const token = opts.token ?? (opts.auth === false ? null : getToken());
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      signal: opts.signal ?? null,
      cache: 'no-store',
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, NETWORK_ERROR, 'network error');
  }
  if (res.ok) return res;

  let code = `http_${res.status}`;
  let message = res.statusText || code;
  try {
    const data = (await res.json()) as { error?: unknown; message?: unknown };
    if (typeof data.error === 'string') code = data.error;
    if (typeof data.message === 'string') message = data.message;
  } catch {
    // Not JSON (a proxy page, say): keep the status text.
  }
  const ra = Number(res.headers.get('Retry-After'));
  const err = new ApiError(res.status, code, message, Number.isFinite(ra) && ra > 0 ? Math.ceil(ra) : null);
  if (res.status === 401 && opts.auth !== false) {
    setToken(null);
    onUnauthorized();
  }
  throw err;
}

async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(path, opts);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

const enc = encodeURIComponent;

export const api = {
  authConfig: () => request<AuthConfig>('/api/v1/auth/config', { auth: false }),
  otpStart: (phone: string, turnstileToken?: string | null) =>
    request<{ verificationId: string; status: string }>('/api/v1/auth/otp/start', {
      method: 'POST',
      body: turnstileToken ? { phone, turnstileToken } : { phone },
      auth: false,
    }),
  otpCheck: (verificationId: string, code: string) =>
    request<{ token: string; expiresAt: string }>('/api/v1/auth/otp/check', {
      method: 'POST',
      body: { verificationId, code },
      auth: false,
    }),
  logout: () => request<unknown>('/api/v1/auth/logout', { method: 'POST' }),
  me: () => request<Me>('/api/v1/me'),
  /** Checks a token before keeping it: a 401 here means a wrong token, not an ended session. */
  meWithToken: (token: string) => request<Me>('/api/v1/me', { auth: false, token }),
  readiness: () => request<Readiness>('/api/v1/readiness'),
  outboxList: (q: { limit?: number; cursor?: string | null; status?: string; channel?: string }) => {
    const p = new URLSearchParams({ limit: String(q.limit ?? 50) });
    if (q.cursor) p.set('cursor', q.cursor);
    if (q.status) p.set('status', q.status);
    if (q.channel) p.set('channel', q.channel);
    return request<OutboxPage>(`/api/v1/outbox?${p.toString()}`);
  },
  outboxItem: (id: string) => request<OutboxDetail>(`/api/v1/outbox/${enc(id)}`),
  outboxAudit: (id: string) => request<{ events: AuditEvent[] }>(`/api/v1/outbox/${enc(id)}/audit`),
  retry: (id: string) => request<StatusAnswer>(`/api/v1/outbox/${enc(id)}/retry`, { method: 'POST' }),
  cancel: (id: string) => request<StatusAnswer>(`/api/v1/outbox/${enc(id)}/cancel`, { method: 'POST' }),
  templates: () => request<{ templates: TemplateInfo[] }>('/api/v1/templates'),
  enqueue: (
    m: { channel: Channel; target: string; subject?: string; title?: string } & (
      { body: string } | { template: string; data: Record<string, unknown> }
    ),
  ) => request<StatusAnswer>('/api/v1/outbox', { method: 'POST', body: { ...m, source: 'owner_panel' } }),
  policy: () => request<PolicyAnswer>('/api/v1/tenant/policy'),
  putPolicy: (optIns: OptIns) =>
    request<PolicyAnswer>('/api/v1/tenant/policy', { method: 'PUT', body: { optIns } }),
  telegramLink: () => request<TelegramLink>('/api/v1/telegram/links', { method: 'POST', body: {} }),
  whatsappUsage: () => request<WhatsAppUsage>('/api/v1/whatsapp/usage'),
  devices: () => request<{ devices: Device[] }>('/api/v1/lan/devices'),
  addDevice: (d: { id: string; role: Role; name: string; printer?: { address: string; columns: number } }) =>
    request<{ id: string; token: string }>('/api/v1/lan/devices', { method: 'POST', body: d }),
  createPairing: (d: { role: Role; name: string }) =>
    request<{ code: string; expiresAt: string; url: string }>('/api/v1/lan/pairings', {
      method: 'POST',
      body: d,
    }),
  removeDevice: (id: string) => request<undefined>(`/api/v1/lan/devices/${enc(id)}`, { method: 'DELETE' }),
  printers: () =>
    request<{ holdAfterMin: number; printers: PrinterState[]; held: HeldTicket[] }>('/api/v1/lan/printers'),
  decideHeld: (printer: string, seq: number, action: 'release' | 'discard') =>
    request<unknown>(`/api/v1/lan/printers/${enc(printer)}/held/${seq}/${action}`, { method: 'POST' }),
  /** The live event stream; the caller reads res.body (fetch, because EventSource cannot send headers). */
  events: (signal: AbortSignal) => send('/api/v1/events', { signal, accept: 'text/event-stream' }),
};
