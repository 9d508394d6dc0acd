import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import { CANARIES } from '../helpers/canary.ts';

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  body?: string;
  contentType?: string;
  auth?: 'owner' | 'none' | 'bogus' | 'admin' | 'admin-wrong';
  headers?: Record<string, string>;
  status: number;
  code: string;
}

const ok = { channel: 'email', target: 'a@example.az', body: 'hi' };
const j = (v: unknown) => JSON.stringify(v);
const big = 'x'.repeat(70_000);

const CASES: Case[] = [
  { name: 'malformed JSON', method: 'POST', url: '/api/v1/outbox', body: '{"channel": "email",', status: 400, code: 'bad_request' },
  { name: 'empty JSON body', method: 'POST', url: '/api/v1/outbox', body: '', status: 400, code: 'bad_request' },
  { name: 'JSON array instead of object', method: 'POST', url: '/api/v1/outbox', body: '[1,2]', status: 400, code: 'validation_failed' },
  { name: 'JSON null', method: 'POST', url: '/api/v1/outbox', body: 'null', status: 400, code: 'validation_failed' },
  { name: 'wrong content type', method: 'POST', url: '/api/v1/outbox', body: 'channel=email', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'unsupported_media_type' },
  { name: 'unknown channel', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, channel: 'fax' }), status: 400, code: 'unknown_channel' },
  { name: 'channel of wrong type', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, channel: 42 }), status: 400, code: 'validation_failed' },
  { name: 'target missing', method: 'POST', url: '/api/v1/outbox', body: j({ channel: 'email', body: 'x' }), status: 400, code: 'validation_failed' },
  { name: 'invalid E.164 phone', method: 'POST', url: '/api/v1/outbox', body: j({ channel: 'whatsapp', target: '0501234567', body: 'x' }), status: 400, code: 'invalid_phone' },
  { name: 'impossible phone number', method: 'POST', url: '/api/v1/outbox', body: j({ channel: 'otp_sms', target: '+99412', body: 'x' }), status: 400, code: 'invalid_phone' },
  { name: 'invalid email', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, target: 'owner@@example' }), status: 400, code: 'invalid_email' },
  { name: 'invalid telegram target', method: 'POST', url: '/api/v1/outbox', body: j({ channel: 'telegram', target: 'chat 1', body: 'x' }), status: 400, code: 'invalid_target' },
  { name: 'invalid in_app role', method: 'POST', url: '/api/v1/outbox', body: j({ channel: 'in_app', target: 'role:chef', body: 'x' }), status: 400, code: 'invalid_target' },
  { name: 'no body and no template', method: 'POST', url: '/api/v1/outbox', body: j({ channel: 'email', target: 'a@example.az' }), status: 400, code: 'validation_failed' },
  { name: 'unknown template', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, body: undefined, template: 'nope' }), status: 400, code: 'unknown_template' },
  { name: 'template data missing', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, body: undefined, template: 'daily_owner_report', data: { date: '2026-11-25' } }), status: 400, code: 'template_data_invalid' },
  { name: 'NUL character in the body text', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, body: 'a\u0000b' }), status: 400, code: 'bad_request' },
  { name: 'NUL character in a template data key', method: 'POST', url: '/api/v1/outbox/batch', body: j({ messages: [{ ...ok, data: { 'k\u0000': 1 } }] }), status: 400, code: 'bad_request' },
  { name: 'NUL character in a query parameter', method: 'GET', url: '/api/v1/outbox?source=a%00b', status: 400, code: 'bad_request' },
  { name: 'NUL character in a path parameter', method: 'DELETE', url: '/api/v1/lan/devices/pos%00x', status: 400, code: 'bad_request' },
  { name: 'unknown field', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, priority: 'high' }), status: 400, code: 'validation_failed' },
  { name: 'bad sendAt', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, sendAt: 'tomorrow' }), status: 400, code: 'validation_failed' },
  { name: 'bad source', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, source: 'Owner Panel!' }), status: 400, code: 'validation_failed' },
  { name: 'telegram text over 4096', method: 'POST', url: '/api/v1/outbox', body: j({ channel: 'telegram', target: '12345', body: 'y'.repeat(4097) }), status: 400, code: 'validation_failed' },
  { name: 'body over the route limit', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, body: big }), status: 413, code: 'payload_too_large' },
  { name: 'idempotency key header too long', method: 'POST', url: '/api/v1/outbox', body: j(ok), headers: { 'idempotency-key': 'k'.repeat(201) }, status: 400, code: 'validation_failed' },
  { name: 'header and body keys differ', method: 'POST', url: '/api/v1/outbox', body: j({ ...ok, idempotencyKey: 'a' }), headers: { 'idempotency-key': 'b' }, status: 400, code: 'validation_failed' },
  { name: 'no token', method: 'POST', url: '/api/v1/outbox', body: j(ok), auth: 'none', status: 401, code: 'unauthorized' },
  { name: 'unknown token', method: 'GET', url: '/api/v1/outbox', auth: 'bogus', status: 401, code: 'unauthorized' },
  { name: 'batch empty', method: 'POST', url: '/api/v1/outbox/batch', body: j({ messages: [] }), status: 400, code: 'validation_failed' },
  { name: 'batch over 1000', method: 'POST', url: '/api/v1/outbox/batch', body: j({ messages: Array(1001).fill(ok) }), status: 400, code: 'validation_failed' },
  { name: 'list: unknown status filter', method: 'GET', url: '/api/v1/outbox?status=lost', status: 400, code: 'validation_failed' },
  { name: 'list: unknown channel filter', method: 'GET', url: '/api/v1/outbox?channel=fax', status: 400, code: 'unknown_channel' },
  { name: 'list: limit out of range', method: 'GET', url: '/api/v1/outbox?limit=5000', status: 400, code: 'validation_failed' },
  { name: 'list: forged cursor', method: 'GET', url: '/api/v1/outbox?cursor=bm90LWEtY3Vyc29y', status: 400, code: 'validation_failed' },
  { name: 'get: not a uuid', method: 'GET', url: '/api/v1/outbox/../../etc', status: 404, code: 'not_found' },
  { name: 'get: unknown id', method: 'GET', url: '/api/v1/outbox/7f1c0c55-1b7e-4c5d-9d7b-2f1e4a9a0b11', status: 404, code: 'not_found' },
  { name: 'retry: unknown id', method: 'POST', url: '/api/v1/outbox/7f1c0c55-1b7e-4c5d-9d7b-2f1e4a9a0b11/retry', status: 404, code: 'not_found' },
  { name: 'policy: wrong type', method: 'PUT', url: '/api/v1/tenant/policy', body: j({ optIns: { whatsapp: 'yes' } }), status: 400, code: 'validation_failed' },
  { name: 'policy: unknown channel', method: 'PUT', url: '/api/v1/tenant/policy', body: j({ optIns: { fax: true } }), status: 400, code: 'validation_failed' },
  { name: 'admin: no operator token', method: 'POST', url: '/api/v1/admin/tenants', body: j({ id: 'x' }), auth: 'owner', status: 401, code: 'unauthorized' },
  { name: 'admin: wrong operator token', method: 'POST', url: '/api/v1/admin/tenants', body: j({ id: 'x' }), auth: 'admin-wrong', status: 401, code: 'unauthorized' },
  { name: 'admin: bad currency', method: 'POST', url: '/api/v1/admin/tenants', body: j({ id: 'nova', name: 'Nova', country: 'AZ', currency: 'manat' }), auth: 'admin', status: 400, code: 'validation_failed' },
  { name: 'admin: bad time zone', method: 'POST', url: '/api/v1/admin/tenants', body: j({ id: 'nova', name: 'Nova', country: 'AZ', currency: 'AZN', timezone: 'Mars/Olympus' }), auth: 'admin', status: 400, code: 'validation_failed' },
  { name: 'unknown route', method: 'GET', url: '/api/v1/nothing-here', status: 404, code: 'not_found' },
];

for (const kind of await drivers()) {
  describe(`bad input gets a clear 4xx with a stable code and writes nothing [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind);
    });
    afterAll(() => app.close());

    it('has at least 25 cases', () => expect(CASES.length).toBeGreaterThanOrEqual(25));

    it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
      const before = await app.db.query<{ n: number }>('SELECT (SELECT count(*) FROM outbox)::int + (SELECT count(*) FROM tenants)::int AS n');
      const headers: Record<string, string> = { ...(c.headers ?? {}) };
      if (c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
      const auth = c.auth ?? 'owner';
      if (auth === 'owner') headers.authorization = `Bearer ${app.ownerToken}`;
      if (auth === 'bogus') headers.authorization = 'Bearer mz_owner_this-token-does-not-exist-anywhere';
      if (auth === 'admin') headers.authorization = `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}`;
      if (auth === 'admin-wrong') headers.authorization = `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}x`;
      const res = await app.inject({ method: c.method, url: c.url, headers, ...(c.body !== undefined ? { payload: c.body } : {}) });
      expect(res.statusCode, res.body).toBe(c.status);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      const body = res.json() as { error: string; message: string };
      expect(body.error).toBe(c.code);
      expect(typeof body.message).toBe('string');
      const after = await app.db.query<{ n: number }>('SELECT (SELECT count(*) FROM outbox)::int + (SELECT count(*) FROM tenants)::int AS n');
      expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    });
  });
}
