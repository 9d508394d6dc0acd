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
  auth?: 'owner' | 'none' | 'bogus' | 'malformed' | 'basic' | 'admin' | 'admin-wrong';
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** The message must match (when the wording is part of the contract). */
  message?: RegExp;
  /** The Allow header of a 405. */
  allow?: string;
}

const ok = { channel: 'email', target: 'a@example.az', body: 'hi' };
const j = (v: unknown) => JSON.stringify(v);
// Over the enqueue route's limit (the longest documented message, 100,000 characters, fits).
const big = 'x'.repeat(700_000);
const cursorOf = (text: string) => Buffer.from(text).toString('base64url');
// Built-in object properties: as ids they must not reach the prototype.
const PROTOTYPE_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
const UUID = '7f1c0c55-1b7e-4c5d-9d7b-2f1e4a9a0b11';

const CASES: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    url: '/api/v1/outbox',
    body: '{"channel": "email",',
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'empty JSON body',
    method: 'POST',
    url: '/api/v1/outbox',
    body: '',
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'JSON array instead of object',
    method: 'POST',
    url: '/api/v1/outbox',
    body: '[1,2]',
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'JSON null',
    method: 'POST',
    url: '/api/v1/outbox',
    body: 'null',
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'wrong content type',
    method: 'POST',
    url: '/api/v1/outbox',
    body: 'channel=email',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'unknown channel',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, channel: 'fax' }),
    status: 400,
    code: 'unknown_channel',
  },
  {
    name: 'channel of wrong type',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, channel: 42 }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'target missing',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ channel: 'email', body: 'x' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'invalid E.164 phone',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ channel: 'whatsapp', target: '0501234567', body: 'x' }),
    status: 400,
    code: 'invalid_phone',
  },
  {
    name: 'impossible phone number',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ channel: 'otp_sms', target: '+99412', body: 'x' }),
    status: 400,
    code: 'invalid_phone',
  },
  {
    name: 'invalid email',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, target: 'owner@@example' }),
    status: 400,
    code: 'invalid_email',
  },
  {
    name: 'invalid telegram target',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ channel: 'telegram', target: 'chat 1', body: 'x' }),
    status: 400,
    code: 'invalid_target',
  },
  {
    name: 'invalid in_app role',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ channel: 'in_app', target: 'role:chef', body: 'x' }),
    status: 400,
    code: 'invalid_target',
  },
  {
    name: 'no body and no template',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ channel: 'email', target: 'a@example.az' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'unknown template',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, body: undefined, template: 'nope' }),
    status: 400,
    code: 'unknown_template',
  },
  {
    name: 'template data missing',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, body: undefined, template: 'daily_owner_report', data: { date: '2026-11-25' } }),
    status: 400,
    code: 'template_data_invalid',
  },
  {
    name: 'NUL character in the body text',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, body: 'a\u0000b' }),
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'NUL character in a template data key',
    method: 'POST',
    url: '/api/v1/outbox/batch',
    body: j({ messages: [{ ...ok, data: { 'k\u0000': 1 } }] }),
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'NUL character in a query parameter',
    method: 'GET',
    url: '/api/v1/outbox?source=a%00b',
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'NUL character in a path parameter',
    method: 'DELETE',
    url: '/api/v1/lan/devices/pos%00x',
    status: 400,
    code: 'bad_request',
  },
  {
    name: 'unknown field',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, priority: 'high' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'bad sendAt',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, sendAt: 'tomorrow' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'bad source',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, source: 'Owner Panel!' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'telegram text over 4096',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ channel: 'telegram', target: '12345', body: 'y'.repeat(4097) }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'body over the route limit',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, data: { pad: big } }),
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'email text over 100,000 characters',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, body: 'y'.repeat(100_001) }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'both body and template',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, template: 'kitchen_ticket_ready', data: { ticket: 'A-1' } }),
    status: 400,
    code: 'validation_failed',
    message: /either "body" or "template"/,
  },
  {
    name: 'batch: both body and template',
    method: 'POST',
    url: '/api/v1/outbox/batch',
    body: j({ messages: [ok, { ...ok, template: 'kitchen_ticket_ready', data: { ticket: 'A-1' } }] }),
    status: 400,
    code: 'validation_failed',
  },
  ...PROTOTYPE_KEYS.flatMap((template): Case[] => [
    {
      name: `template "${template}"`,
      method: 'POST',
      url: '/api/v1/outbox',
      body: j({ ...ok, body: undefined, template }),
      status: 400,
      code: 'unknown_template',
    },
    {
      name: `batch: template "${template}"`,
      method: 'POST',
      url: '/api/v1/outbox/batch',
      body: j({ messages: [{ ...ok, body: undefined, template }] }),
      status: 400,
      code: 'unknown_template',
    },
  ]),
  {
    name: 'idempotency key header too long',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j(ok),
    headers: { 'idempotency-key': 'k'.repeat(201) },
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'header and body keys differ',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j({ ...ok, idempotencyKey: 'a' }),
    headers: { 'idempotency-key': 'b' },
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'no token',
    method: 'POST',
    url: '/api/v1/outbox',
    body: j(ok),
    auth: 'none',
    status: 401,
    code: 'unauthorized',
    message: /bearer token is required/,
  },
  {
    name: 'unknown token',
    method: 'GET',
    url: '/api/v1/outbox',
    auth: 'bogus',
    status: 401,
    code: 'unauthorized',
    message: /token is not valid/,
  },
  {
    name: 'malformed token',
    method: 'GET',
    url: '/api/v1/outbox',
    auth: 'malformed',
    status: 401,
    code: 'unauthorized',
    message: /token is not valid/,
  },
  {
    name: 'not a bearer scheme',
    method: 'GET',
    url: '/api/v1/templates',
    auth: 'basic',
    status: 401,
    code: 'unauthorized',
    message: /token is not valid/,
  },
  {
    name: 'batch empty',
    method: 'POST',
    url: '/api/v1/outbox/batch',
    body: j({ messages: [] }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'batch over 1000',
    method: 'POST',
    url: '/api/v1/outbox/batch',
    body: j({ messages: Array(1001).fill(ok) }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: unknown status filter',
    method: 'GET',
    url: '/api/v1/outbox?status=lost',
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: unknown channel filter',
    method: 'GET',
    url: '/api/v1/outbox?channel=fax',
    status: 400,
    code: 'unknown_channel',
  },
  {
    name: 'list: limit out of range',
    method: 'GET',
    url: '/api/v1/outbox?limit=5000',
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: forged cursor',
    method: 'GET',
    url: '/api/v1/outbox?cursor=bm90LWEtY3Vyc29y',
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: cursor with a uuid of 36 zeros',
    method: 'GET',
    url: `/api/v1/outbox?cursor=${cursorOf(`2026-01-01T00:00:00Z|${'0'.repeat(36)}`)}`,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: cursor with a uuid of 36 hyphens',
    method: 'GET',
    url: `/api/v1/outbox?cursor=${cursorOf(`2026-01-01T00:00:00Z|${'-'.repeat(36)}`)}`,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: cursor with 30 February',
    method: 'GET',
    url: `/api/v1/outbox?cursor=${cursorOf(`2026-02-30T00:00:00Z|${UUID}`)}`,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: cursor with a year PostgreSQL cannot read',
    method: 'GET',
    url: `/api/v1/outbox?cursor=${cursorOf(`+275760-09-13T00:00:00Z|${UUID}`)}`,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'list: empty cursor',
    method: 'GET',
    url: '/api/v1/outbox?cursor=',
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'inbound: cursor with a uuid of 36 zeros',
    method: 'GET',
    url: `/api/v1/inbound?cursor=${cursorOf(`2026-01-01T00:00:00Z|${'0'.repeat(36)}`)}`,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'inbound: cursor with an extra part',
    method: 'GET',
    url: `/api/v1/inbound?cursor=${cursorOf(`2026-01-01T00:00:00Z|${UUID}|x`)}`,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'get: id of 36 zeros',
    method: 'GET',
    url: `/api/v1/outbox/${'0'.repeat(36)}`,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'audit: id of 36 hyphens',
    method: 'GET',
    url: `/api/v1/outbox/${'-'.repeat(36)}/audit`,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'cancel: id of 36 zeros',
    method: 'POST',
    url: `/api/v1/outbox/${'0'.repeat(36)}/cancel`,
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'wrong method on a list',
    method: 'DELETE',
    url: '/api/v1/outbox',
    status: 405,
    code: 'method_not_allowed',
    allow: 'GET, HEAD, POST',
  },
  {
    name: 'wrong method on an item',
    method: 'PUT',
    url: `/api/v1/outbox/${UUID}`,
    status: 405,
    code: 'method_not_allowed',
    allow: 'GET, HEAD',
  },
  {
    name: 'wrong method on the OpenAPI document',
    method: 'POST',
    url: '/openapi.json',
    body: '{}',
    status: 405,
    code: 'method_not_allowed',
    allow: 'GET, HEAD',
  },
  {
    name: 'wrong method on the template catalogue',
    method: 'POST',
    url: '/api/v1/templates',
    body: '{}',
    status: 405,
    code: 'method_not_allowed',
    allow: 'GET, HEAD',
  },
  { name: 'get: not a uuid', method: 'GET', url: '/api/v1/outbox/../../etc', status: 404, code: 'not_found' },
  {
    name: 'get: unknown id',
    method: 'GET',
    url: '/api/v1/outbox/7f1c0c55-1b7e-4c5d-9d7b-2f1e4a9a0b11',
    status: 404,
    code: 'not_found',
  },
  {
    name: 'retry: unknown id',
    method: 'POST',
    url: '/api/v1/outbox/7f1c0c55-1b7e-4c5d-9d7b-2f1e4a9a0b11/retry',
    status: 404,
    code: 'not_found',
  },
  {
    name: 'policy: wrong type',
    method: 'PUT',
    url: '/api/v1/tenant/policy',
    body: j({ optIns: { whatsapp: 'yes' } }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'policy: unknown channel',
    method: 'PUT',
    url: '/api/v1/tenant/policy',
    body: j({ optIns: { fax: true } }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'admin: no operator token',
    method: 'POST',
    url: '/api/v1/admin/tenants',
    body: j({ id: 'x' }),
    auth: 'owner',
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'admin: wrong operator token',
    method: 'POST',
    url: '/api/v1/admin/tenants',
    body: j({ id: 'x' }),
    auth: 'admin-wrong',
    status: 401,
    code: 'unauthorized',
    message: /operator token is not valid/,
  },
  {
    name: 'admin: bad currency',
    method: 'POST',
    url: '/api/v1/admin/tenants',
    body: j({ id: 'nova', name: 'Nova', country: 'AZ', currency: 'manat' }),
    auth: 'admin',
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'admin: bad time zone',
    method: 'POST',
    url: '/api/v1/admin/tenants',
    body: j({ id: 'nova', name: 'Nova', country: 'AZ', currency: 'AZN', timezone: 'Mars/Olympus' }),
    auth: 'admin',
    status: 400,
    code: 'validation_failed',
  },
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
      const before = await app.db.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM outbox)::int + (SELECT count(*) FROM tenants)::int AS n',
      );
      const headers: Record<string, string> = { ...(c.headers ?? {}) };
      if (c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
      const auth = c.auth ?? 'owner';
      if (auth === 'owner') headers.authorization = `Bearer ${app.ownerToken}`;
      if (auth === 'bogus') headers.authorization = 'Bearer mz_owner_this-token-does-not-exist-anywhere';
      if (auth === 'malformed') headers.authorization = 'Bearer short!';
      if (auth === 'basic') headers.authorization = 'Basic dXNlcjpwYXNz';
      if (auth === 'admin') headers.authorization = `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}`;
      if (auth === 'admin-wrong') headers.authorization = `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}x`;
      const res = await app.inject({
        method: c.method,
        url: c.url,
        headers,
        ...(c.body !== undefined ? { payload: c.body } : {}),
      });
      expect(res.statusCode, res.body).toBe(c.status);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      const body = res.json() as { error: string; message: string };
      expect(body.error).toBe(c.code);
      expect(typeof body.message).toBe('string');
      if (c.message) expect(body.message).toMatch(c.message);
      if (c.allow) expect(res.headers.allow).toBe(c.allow);
      const after = await app.db.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM outbox)::int + (SELECT count(*) FROM tenants)::int AS n',
      );
      expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    });

    it('takes an email body of 100,000 characters (Cyrillic, over the ordinary 64 KiB body limit)', async () => {
      const text = 'Ж'.repeat(100_000);
      const res = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: { ...ok, body: text },
      });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(202);
      const item = await app.as(app.ownerToken, {
        method: 'GET',
        url: `/api/v1/outbox/${(res.json() as { id: string }).id}`,
      });
      expect((item.json() as { body: string }).body).toBe(text);
    });
  });
}
