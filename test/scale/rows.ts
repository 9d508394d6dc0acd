import type { Queryable } from '../../src/store/driver.ts';
import { createTenant } from '../../src/store/tenants.ts';

/** Test tenants for the scale suites (opted in to every channel). */
export async function makeTenants(q: Queryable, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    await createTenant(
      q,
      {
        id,
        name: `Tenant ${id}`,
        country: 'AZ',
        currency: 'AZN',
        timezone: 'Asia/Baku',
        locale: 'az',
        optIns: { in_app: true, email: true, telegram: true, whatsapp: true },
      },
      'test',
    );
  }
}

/**
 * Inserts `n` due rows for one tenant and adapter in one statement (bulk setup for claim tests; the
 * API path is exercised elsewhere). `ageMs` backdates them so earlier floods are older.
 */
export async function insertDueRows(
  q: Queryable,
  o: { tenant: string; n: number; adapter?: string; channel?: string; ageMs?: number; source?: string },
): Promise<void> {
  await q.query(
    `INSERT INTO outbox (id, tenant_id, channel, adapter, target, body, source, status, reason, mode, request_hash,
       send_at, next_attempt_at, max_attempts, created_at)
     SELECT gen_random_uuid(), $1, $2, $3, 'role:kitchen', 'Sifariş #' || g, $6, 'ready', 'test', 'lan', md5(g::text),
       now() - make_interval(secs => $5::float8 / 1000) + g * interval '1 microsecond',
       now() - make_interval(secs => $5::float8 / 1000) + g * interval '1 microsecond', 8,
       now() - make_interval(secs => $5::float8 / 1000)
     FROM generate_series(1, $4::int) g`,
    [o.tenant, o.channel ?? 'in_app', o.adapter ?? 'lan_hub', o.n, o.ageMs ?? 0, o.source ?? 'scale_test'],
  );
}
