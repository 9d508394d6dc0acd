import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { CommsApiError, CommsClient } from '../../src/client/index.ts';

for (const kind of await drivers()) {
  describe(`typed client over real HTTP [${kind}]`, () => {
    let app: TestApp;
    let client: CommsClient;
    beforeAll(async () => {
      app = await createTestApp(kind);
      const url = await app.rt.http!.listen({ port: 0, host: '127.0.0.1' });
      client = new CommsClient({ baseUrl: url, token: app.ownerToken });
    });
    afterAll(() => app.close());

    it('enqueues, lists, reads the item, its audit and the readiness', async () => {
      const r = await client.enqueue(
        { channel: 'in_app', target: 'role:kitchen', title: 'Yeni sifariş', body: 'Masa 4', source: 'pos' },
        'client-test-1',
      );
      expect(r.status).toMatch(/ready|blocked/);
      const again = await client.enqueue(
        { channel: 'in_app', target: 'role:kitchen', title: 'Yeni sifariş', body: 'Masa 4', source: 'pos' },
        'client-test-1',
      );
      expect(again.id).toBe(r.id);
      const email = await client.enqueue({ channel: 'email', target: 'boss@example.az', body: 'Hesabat' });
      await waitFor(async () => (await client.get(email.id)).status === 'mock_sent');
      const page = await client.list({ channel: 'email', limit: 10 });
      expect(page.items.map((i) => i.id)).toContain(email.id);
      expect((await client.audit(email.id)).events.at(-1)?.to).toBe('mock_sent');
      const rd = await client.readiness();
      expect(rd.summary.providers).toBe(5);
      expect((await client.me()).tenant.id).toBe('acme');
      expect((await client.verifyAudit()).ok).toBe(true);
    });

    it('turns error answers into CommsApiError with the stable code', async () => {
      const e = await client.enqueue({ channel: 'fax', target: 'x', body: 'y' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CommsApiError);
      expect(e).toMatchObject({ status: 400, code: 'unknown_channel' });
      const anon = client.withToken('mz_owner_not-a-real-token-000000');
      await expect(anon.me()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    });
  });
}
