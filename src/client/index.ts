/**
 * Typed client of the v1 API, built from the same zod schemas as the routes and the OpenAPI
 * document. `import { CommsClient } from 'mupzaos-comms/client'`.
 */
import type { z } from 'zod';
import type { BatchBody, EnqueueBody, ListQuery, PolicyBody } from '../outbox/schemas.ts';
import type {
  AuditTrail,
  AuditVerify,
  AuthConfig,
  BatchAnswer,
  EnqueueAnswer,
  MeAnswer,
  OutboxItemDetail,
  OutboxPage,
  PolicyAnswer,
  Readiness,
  TenantCreated,
  TransitionAnswer,
} from '../http/api-schemas.ts';
import type { ErrorCode } from '../core/errors.ts';

export type EnqueueRequest = z.input<typeof EnqueueBody>;
export type BatchRequest = z.input<typeof BatchBody>;
export type ListFilters = Partial<z.input<typeof ListQuery>>;
export type PolicyRequest = z.input<typeof PolicyBody>;
export type EnqueueResult = z.output<typeof EnqueueAnswer>;
export type OutboxItem = z.output<typeof OutboxPage>['items'][number];
export type OutboxItemWithAttempts = z.output<typeof OutboxItemDetail>;
export type ReadinessDoc = z.output<typeof Readiness>;

/** An API error with its stable code (see the README's error table). */
export class CommsApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'CommsApiError';
  }
}

export interface CommsClientOptions {
  baseUrl: string;
  token?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

export class CommsClient {
  private readonly base: string;
  constructor(private readonly o: CommsClientOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
  }

  withToken(token: string): CommsClient {
    return new CommsClient({ ...this.o, token });
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const f = this.o.fetch ?? globalThis.fetch;
    const res = await f(`${this.base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
    });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { error?: string; message?: string; requestId?: string };
      throw new CommsApiError(
        res.status,
        e.error ?? 'http_error',
        e.message ?? `HTTP ${res.status}`,
        e.requestId,
      );
    }
    return json as T;
  }

  enqueue(msg: EnqueueRequest, idempotencyKey?: string) {
    return this.call<EnqueueResult>(
      'POST',
      '/api/v1/outbox',
      msg,
      idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    );
  }
  enqueueBatch(req: BatchRequest) {
    return this.call<z.output<typeof BatchAnswer>>('POST', '/api/v1/outbox/batch', req);
  }
  list(filters: ListFilters = {}) {
    const qs = new URLSearchParams(
      Object.entries(filters)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    return this.call<z.output<typeof OutboxPage>>('GET', `/api/v1/outbox${qs.size ? `?${qs}` : ''}`);
  }
  get(id: string) {
    return this.call<OutboxItemWithAttempts>('GET', `/api/v1/outbox/${encodeURIComponent(id)}`);
  }
  audit(id: string) {
    return this.call<z.output<typeof AuditTrail>>('GET', `/api/v1/outbox/${encodeURIComponent(id)}/audit`);
  }
  retry(id: string) {
    return this.call<z.output<typeof TransitionAnswer>>(
      'POST',
      `/api/v1/outbox/${encodeURIComponent(id)}/retry`,
    );
  }
  cancel(id: string) {
    return this.call<z.output<typeof TransitionAnswer>>(
      'POST',
      `/api/v1/outbox/${encodeURIComponent(id)}/cancel`,
    );
  }
  policy() {
    return this.call<z.output<typeof PolicyAnswer>>('GET', '/api/v1/tenant/policy');
  }
  setPolicy(req: PolicyRequest) {
    return this.call<z.output<typeof PolicyAnswer>>('PUT', '/api/v1/tenant/policy', req);
  }
  readiness() {
    return this.call<ReadinessDoc>('GET', '/api/v1/readiness');
  }
  me() {
    return this.call<z.output<typeof MeAnswer>>('GET', '/api/v1/me');
  }
  authConfig() {
    return this.call<z.output<typeof AuthConfig>>('GET', '/api/v1/auth/config');
  }
  verifyAudit() {
    return this.call<z.output<typeof AuditVerify>>('GET', '/api/v1/audit/verify');
  }
  /** Operator call: the client's token must be COMMS_ADMIN_TOKEN. */
  createTenant(t: {
    id: string;
    name: string;
    country: string;
    currency: string;
    timezone?: string;
    locale?: 'az' | 'ru' | 'en';
  }) {
    return this.call<z.output<typeof TenantCreated>>('POST', '/api/v1/admin/tenants', t);
  }
  /** Escape hatch for routes added by other modules (typed by the caller). */
  request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return this.call<T>(method, path, body);
  }
}
