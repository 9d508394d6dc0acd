import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';

/**
 * Paging by nextCursor finds every row exactly once, newest first, also when many rows share one
 * timestamp: a batch is one transaction, so its rows share created_at to the microsecond. (A
 * cursor that rounded that timestamp to milliseconds sat above the rest of the batch, and the
 * next page skipped them.)
 */
interface Page {
  items: { id: string }[];
  nextCursor: string | null;
}

async function pageThrough(app: TestApp, url: string, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1_000; pages++) {
    const sep = url.includes('?') ? '&' : '?';
    const res = await app.as(app.ownerToken, {
      method: 'GET',
      url: `${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as Page;
    seen.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor;
    if (!cursor) return seen;
  }
  throw new Error('paging did not end');
}

const batches = fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 4 });
const pageSize = fc.integer({ min: 1, max: 12 });

for (const kind of await drivers()) {
  describe(`paging finds every row once, rows sharing a timestamp included [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind, { start: false });
    });
    afterAll(() => app.close());

    it('GET /api/v1/outbox: batches of rows committed together', async () => {
      await fc.assert(
        fc.asyncProperty(batches, pageSize, async (sizes, limit) => {
          // A source of its own per run, so earlier runs' rows stay out of the list.
          const source = `paging-${randomUUID().slice(0, 8)}`;
          const inserted: string[] = [];
          for (const n of sizes) {
            const messages = Array.from({ length: n }, (_, i) => ({
              channel: 'in_app',
              target: 'pos-1',
              body: `m${i}`,
              source,
            }));
            const res = await app.as(app.ownerToken, {
              method: 'POST',
              url: '/api/v1/outbox/batch',
              payload: { messages },
            });
            expect(res.statusCode, res.body).toBe(202);
            inserted.push(...(res.json() as { items: { id: string }[] }).items.map((i) => i.id));
          }
          const seen = await pageThrough(app, `/api/v1/outbox?source=${source}`, limit);
          expect(seen.length).toBe(inserted.length);
          expect(new Set(seen)).toEqual(new Set(inserted));
          // Newest first, ties by id: the order the cursor relies on.
          const r = await app.db.query<{ id: string }>(
            `SELECT id::text FROM outbox WHERE source = $1 ORDER BY created_at DESC, id DESC`,
            [source],
          );
          expect(seen).toEqual(r.rows.map((x) => x.id));
        }),
        { numRuns: 8 },
      );
    });

    it('GET /api/v1/inbound: messages received together (one microsecond timestamp)', async () => {
      await fc.assert(
        fc.asyncProperty(
          batches,
          pageSize,
          fc.integer({ min: 1, max: 999_999 }),
          async (sizes, limit, micros) => {
            await app.db.query('DELETE FROM inbound_messages');
            const inserted: string[] = [];
            for (const [b, n] of sizes.entries()) {
              // Every message of a delivery shares its received_at, down to the microsecond.
              const at = `2026-11-25T09:00:0${b}.${String(micros).padStart(6, '0')}Z`;
              await app.db.tx(async (q) => {
                for (let i = 0; i < n; i++) {
                  const id = randomUUID();
                  inserted.push(id);
                  await q.query(
                    `INSERT INTO inbound_messages (id, tenant_id, provider, external_id, sender, type, text, raw, received_at)
                   VALUES ($1, 'acme', 'telegram', $2, '99450', 'text', 'salam', '{}', $3)`,
                    [id, id, at],
                  );
                }
              });
            }
            const seen = await pageThrough(app, '/api/v1/inbound', limit);
            expect(seen.length).toBe(inserted.length);
            expect(new Set(seen)).toEqual(new Set(inserted));
          },
        ),
        { numRuns: 8 },
      );
    });
  });
}
