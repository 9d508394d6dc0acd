import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import { CANARIES } from '../helpers/canary.ts';

const ADMIN = { authorization: `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}` };

for (const kind of await drivers()) {
  describe(`operator API: everything the CLI does to a store [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind);
    });
    afterAll(() => app.close());

    const call = (
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      url: string,
      body?: unknown,
      headers: Record<string, string> = ADMIN,
    ) =>
      app.inject({
        method,
        url,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });

    const ROUTES: [method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown][] = [
      ['GET', '/api/v1/admin/tenants'],
      ['POST', '/api/v1/admin/tenants/acme/owner-phones', { phone: '+994501112233' }],
      ['DELETE', '/api/v1/admin/tenants/acme/owner-phones/%2B994501112233'],
      ['PUT', '/api/v1/admin/whatsapp/numbers/106540352242922', { tenant: 'acme' }],
      ['POST', '/api/v1/admin/tenants/acme/devices', { id: 'pos-1', role: 'pos', name: 'POS' }],
      ['POST', '/api/v1/admin/tenants/acme/devices/pos-1/token'],
    ];

    it.each(ROUTES)(
      '%s %s needs the operator token (none, wrong, an owner token: 401; nothing written)',
      async (method, url, body) => {
        const before = await app.db.query<{ n: number }>(
          'SELECT (SELECT count(*) FROM owners)::int + (SELECT count(*) FROM lan_devices)::int + (SELECT count(*) FROM tenant_whatsapp_numbers)::int AS n',
        );
        const wrong: Record<string, string>[] = [
          {},
          { authorization: `Bearer ${CANARIES.COMMS_ADMIN_TOKEN}x` },
          { authorization: `Bearer ${app.ownerToken}` },
        ];
        for (const headers of wrong) {
          const res = await call(method, url, body, headers);
          expect(res.statusCode, res.body).toBe(401);
          expect(res.json()).toMatchObject({ error: 'unauthorized' });
        }
        const after = await app.db.query<{ n: number }>(
          'SELECT (SELECT count(*) FROM owners)::int + (SELECT count(*) FROM lan_devices)::int + (SELECT count(*) FROM tenant_whatsapp_numbers)::int AS n',
        );
        expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
      },
    );

    it('tenant list: every tenant, a created one among them', async () => {
      expect(
        (
          await call('POST', '/api/v1/admin/tenants', {
            id: 'nargiz-cafe',
            name: 'Nargiz Cafe',
            country: 'AZ',
            currency: 'AZN',
          })
        ).statusCode,
      ).toBe(201);
      const res = await call('GET', '/api/v1/admin/tenants');
      expect(res.statusCode).toBe(200);
      const ids = (res.json() as { tenants: { id: string; createdAt: string }[] }).tenants.map((t) => t.id);
      expect(ids).toEqual(['acme', 'nargiz-cafe']);
      expect((res.json() as { tenants: { id: string; createdAt: string }[] }).tenants[1]).toMatchObject({
        id: 'nargiz-cafe',
        name: 'Nargiz Cafe',
        locale: 'az',
        createdAt: expect.stringMatching(/^\d{4}-/),
      });
    });

    it('owner phones: added (normalised, audited), refused twice, removed, then 404', async () => {
      const add = await call('POST', '/api/v1/admin/tenants/acme/owner-phones', {
        phone: '+994 50 111 22 33',
        ownerId: 'acme-boss',
      });
      expect(add.statusCode, add.body).toBe(201);
      expect(add.json()).toEqual({ tenant: 'acme', ownerId: 'acme-boss', phone: '+994501112233' });
      expect(
        (
          await app.db.query(
            `SELECT owner_id FROM owners WHERE tenant_id = 'acme' AND phone = '+994501112233'`,
          )
        ).rows,
      ).toEqual([{ owner_id: 'acme-boss' }]);
      const again = await call('POST', '/api/v1/admin/tenants/acme/owner-phones', { phone: '+994501112233' });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ error: 'conflict' });
      const del = await call('DELETE', '/api/v1/admin/tenants/acme/owner-phones/%2B994501112233');
      expect(del.statusCode, del.body).toBe(204);
      expect(
        (await app.db.query(`SELECT 1 FROM owners WHERE tenant_id = 'acme' AND phone = '+994501112233'`))
          .rows,
      ).toEqual([]);
      const actions = await app.db.query<{ action: string }>(
        `SELECT action FROM audit_events WHERE tenant_id = 'acme' AND entity = 'otp' ORDER BY id`,
      );
      expect(actions.rows.map((r) => r.action)).toEqual(['owner_phone_added', 'owner_phone_removed']);
      const gone = await call('DELETE', '/api/v1/admin/tenants/acme/owner-phones/%2B994501112233');
      expect(gone.statusCode).toBe(404);
      expect(gone.json()).toMatchObject({ error: 'not_found' });
    });

    it('whatsapp number mapping: routed to the tenant, moved by a second mapping', async () => {
      const res = await call('PUT', '/api/v1/admin/whatsapp/numbers/106540352242922', { tenant: 'acme' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ phoneNumberId: '106540352242922', tenant: 'acme' });
      expect(
        (
          await call('POST', '/api/v1/admin/tenants', {
            id: 'sahil-grill',
            name: 'Sahil Grill',
            country: 'AZ',
            currency: 'AZN',
          })
        ).statusCode,
      ).toBe(201);
      const moved = await call('PUT', '/api/v1/admin/whatsapp/numbers/106540352242922', {
        tenant: 'sahil-grill',
      });
      expect(moved.statusCode, moved.body).toBe(200);
      const rows = await app.db.query(
        `SELECT tenant_id FROM tenant_whatsapp_numbers WHERE phone_number_id = '106540352242922'`,
      );
      expect(rows.rows).toEqual([{ tenant_id: 'sahil-grill' }]);
    });

    it('devices: registered with a working token, a new token replaces it, a second register is device_exists', async () => {
      const res = await call('POST', '/api/v1/admin/tenants/acme/devices', {
        id: 'kitchen-1',
        role: 'kitchen',
        name: 'Kitchen',
      });
      expect(res.statusCode, res.body).toBe(201);
      const { token } = res.json() as { token: string };
      expect(res.json()).toMatchObject({
        tenant: 'acme',
        id: 'kitchen-1',
        role: 'kitchen',
        name: 'Kitchen',
        token: expect.stringMatching(/^mz_device_/),
      });
      expect((await app.as(token, { method: 'GET', url: '/api/v1/me' })).json()).toMatchObject({
        tenant: { id: 'acme' },
        role: 'device',
        subject: 'kitchen-1',
      });
      const dup = await call('POST', '/api/v1/admin/tenants/acme/devices', {
        id: 'kitchen-1',
        role: 'kitchen',
        name: 'Kitchen',
      });
      expect(dup.statusCode).toBe(409);
      expect(dup.json()).toMatchObject({ error: 'device_exists' });
      const rotated = await call('POST', '/api/v1/admin/tenants/acme/devices/kitchen-1/token');
      expect(rotated.statusCode, rotated.body).toBe(201);
      const next = (rotated.json() as { token: string }).token;
      expect(next).not.toBe(token);
      expect((await app.as(token, { method: 'GET', url: '/api/v1/me' })).statusCode).toBe(401);
      expect((await app.as(next, { method: 'GET', url: '/api/v1/me' })).statusCode).toBe(200);
    });

    const BAD: [
      name: string,
      method: 'POST' | 'PUT' | 'DELETE',
      url: string,
      body: unknown,
      status: number,
      code: string,
    ][] = [
      [
        'phone not E.164',
        'POST',
        '/api/v1/admin/tenants/acme/owner-phones',
        { phone: '0501112233' },
        400,
        'validation_failed',
      ],
      [
        'phone outside the OTP allow-list',
        'POST',
        '/api/v1/admin/tenants/acme/owner-phones',
        { phone: '+905321234567' },
        400,
        'validation_failed',
      ],
      [
        'phone of wrong type',
        'POST',
        '/api/v1/admin/tenants/acme/owner-phones',
        { phone: 994501112233 },
        400,
        'validation_failed',
      ],
      [
        'owner id with capitals',
        'POST',
        '/api/v1/admin/tenants/acme/owner-phones',
        { phone: '+994501112244', ownerId: 'Boss' },
        400,
        'validation_failed',
      ],
      [
        'unknown key',
        'POST',
        '/api/v1/admin/tenants/acme/owner-phones',
        { phone: '+994501112244', admin: true },
        400,
        'validation_failed',
      ],
      [
        '__proto__ key',
        'POST',
        '/api/v1/admin/tenants/acme/owner-phones',
        JSON.parse('{"phone":"+994501112244","__proto__":{"x":1}}'),
        400,
        'bad_request',
      ],
      [
        'bad tenant id in the path',
        'POST',
        '/api/v1/admin/tenants/ACME!/owner-phones',
        { phone: '+994501112244' },
        400,
        'validation_failed',
      ],
      [
        'unknown tenant (phone)',
        'POST',
        '/api/v1/admin/tenants/nobody/owner-phones',
        { phone: '+994501112244' },
        404,
        'not_found',
      ],
      [
        'unknown tenant (remove phone)',
        'DELETE',
        '/api/v1/admin/tenants/nobody/owner-phones/%2B994501112244',
        undefined,
        404,
        'not_found',
      ],
      [
        'remove: not a phone',
        'DELETE',
        '/api/v1/admin/tenants/acme/owner-phones/constructor',
        undefined,
        400,
        'validation_failed',
      ],
      [
        'whatsapp: id not digits',
        'PUT',
        '/api/v1/admin/whatsapp/numbers/12ab',
        { tenant: 'acme' },
        400,
        'validation_failed',
      ],
      ['whatsapp: tenant missing', 'PUT', '/api/v1/admin/whatsapp/numbers/123', {}, 400, 'validation_failed'],
      [
        'whatsapp: unknown tenant',
        'PUT',
        '/api/v1/admin/whatsapp/numbers/123',
        { tenant: 'nobody' },
        404,
        'not_found',
      ],
      [
        'whatsapp: tenant named like a prototype key',
        'PUT',
        '/api/v1/admin/whatsapp/numbers/123',
        { tenant: 'constructor' },
        404,
        'not_found',
      ],
      [
        'device: unknown role',
        'POST',
        '/api/v1/admin/tenants/acme/devices',
        { id: 'pos-9', role: 'chef', name: 'x' },
        400,
        'validation_failed',
      ],
      [
        'device: empty name',
        'POST',
        '/api/v1/admin/tenants/acme/devices',
        { id: 'pos-9', role: 'pos', name: ' ' },
        400,
        'validation_failed',
      ],
      [
        'device: unknown tenant',
        'POST',
        '/api/v1/admin/tenants/nobody/devices',
        { id: 'pos-9', role: 'pos', name: 'POS' },
        404,
        'not_found',
      ],
      [
        'device token: unknown device',
        'POST',
        '/api/v1/admin/tenants/acme/devices/pos-404/token',
        undefined,
        404,
        'not_found',
      ],
      [
        'device token: unknown tenant',
        'POST',
        '/api/v1/admin/tenants/nobody/devices/pos-1/token',
        undefined,
        404,
        'not_found',
      ],
      [
        'device token: bad device id',
        'POST',
        '/api/v1/admin/tenants/acme/devices/POS%201/token',
        undefined,
        400,
        'validation_failed',
      ],
    ];

    it.each(BAD)('%s → %i %s, nothing written', async (_n, method, url, body, status, code) => {
      const count =
        'SELECT (SELECT count(*) FROM owners)::int + (SELECT count(*) FROM lan_devices)::int + (SELECT count(*) FROM tenant_whatsapp_numbers)::int + (SELECT count(*) FROM audit_events)::int AS n';
      const before = await app.db.query<{ n: number }>(count);
      const res = await call(method, url, body);
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json()).toMatchObject({ error: code, message: expect.any(String) });
      const after = await app.db.query<{ n: number }>(count);
      expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    });

    it('the OpenAPI document describes each operator route with the operator auth', async () => {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<
          string,
          Record<string, { tags: string[]; security?: unknown; responses: Record<string, unknown> }>
        >;
      };
      for (const [method, path] of [
        ['get', '/api/v1/admin/tenants'],
        ['post', '/api/v1/admin/tenants/{tenant}/owner-phones'],
        ['delete', '/api/v1/admin/tenants/{tenant}/owner-phones/{phone}'],
        ['put', '/api/v1/admin/whatsapp/numbers/{phoneNumberId}'],
        ['post', '/api/v1/admin/tenants/{tenant}/devices'],
        ['post', '/api/v1/admin/tenants/{tenant}/devices/{device}/token'],
      ] as const) {
        const op = doc.paths[path]?.[method];
        expect(op, `${method} ${path}`).toBeDefined();
        expect(op!.tags).toContain('admin');
        expect(op!.security).toEqual([{ bearer: [] }]);
        expect(Object.keys(op!.responses)).toContain('401');
      }
    });
  });
}
