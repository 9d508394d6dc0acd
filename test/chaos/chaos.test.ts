import { loadavg } from 'node:os';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { scanDbForCanaries, waitFor } from '../helpers/runtime.ts';
import { checkLeases } from '../scale/leases.ts';
import { PgCluster } from './pg-cluster.ts';
import { Stack, liveEnv, startFakes, type Fakes, type Tenant } from './stack.ts';

/**
 * Jepsen-style fault run: 10,000 messages across 3 tenants and the four outbox channels, live
 * through the real adapters to the fakes; 3 `mupza-comms dispatch` processes and one API process on
 * a private PostgreSQL. A random dispatcher is SIGKILLed every 0.5–3 s (20 kills) and restarted;
 * PostgreSQL is restarted twice (`pg_ctl restart -m fast`) meanwhile. Then, from the fakes' receipt
 * logs keyed by outbox id: lost = 0, unexpected = 0, duplicates counted and each explained in the
 * attempt log (an expired lease, or an earlier attempt without a definite provider answer), no row
 * left in `sending`; every 202 kept, every refusal kept nothing.
 *
 * otp_sms is not in the flood: OTP is synchronous in the login flow (POST /api/v1/auth/otp/start
 * answers with the provider's verdict) and is never queued for later, so it has no outbox backlog
 * for a dispatcher to lose.
 */

const MESSAGES = 10_000;
const KILLS = 20;
const DISPATCHERS = 3;
const CHANNELS = ['whatsapp', 'telegram', 'email', 'in_app'] as const;
type Channel = (typeof CHANNELS)[number];

const rand = (min: number, max: number) => min + Math.random() * (max - min);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function message(i: number, tenants: Tenant[]) {
  const tenant = tenants[i % tenants.length]!;
  const channel: Channel = CHANNELS[Math.floor(i / tenants.length) % CHANNELS.length]!;
  const key = `chaos-${i}`;
  const common = { idempotencyKey: key, source: 'chaos_test' };
  switch (channel) {
    case 'whatsapp':
      return {
        tenant,
        key,
        channel,
        body: {
          ...common,
          channel,
          target: `+99450${1_000_000 + i}`,
          template: 'daily_owner_report',
          data: { whatsappTemplate: 'order_ready', language: 'az', params: [key] },
        },
      };
    case 'telegram':
      return {
        tenant,
        key,
        channel,
        body: { ...common, channel, target: String(700_000_000 + i), body: `Sifariş hazırdır (${key})` },
      };
    case 'email':
      return {
        tenant,
        key,
        channel,
        body: {
          ...common,
          channel,
          target: `guest${i}@example.az`,
          subject: 'Rezervasiya',
          body: `Masanız hazırdır (${key})`,
        },
      };
    case 'in_app':
      return {
        tenant,
        key,
        channel,
        body: {
          ...common,
          channel,
          target: 'role:kitchen',
          title: 'Yeni sifariş',
          body: `Masa ${i % 40} (${key})`,
        },
      };
  }
}

describe.runIf(await PgCluster.available())(
  'chaos: kill -9 dispatchers and restart PostgreSQL mid-run',
  () => {
    let cluster: PgCluster | null = null;
    let fakes: Fakes | null = null;
    let stack: Stack | null = null;
    afterAll(async () => {
      await stack?.stopAll();
      await fakes?.close();
      await cluster?.destroy();
    });

    it('lost = 0, unexpected = 0, duplicates explained, nothing stuck in sending', async () => {
      const t0 = Date.now();
      cluster = await PgCluster.create();
      fakes = await startFakes({ telegramPerSecond: 100 });
      const env = liveEnv(fakes, cluster.url, {
        DATABASE_POOL_SIZE: '6',
        // Well above the provider timeout, so only a dead (or cut-off) dispatcher loses a lease.
        COMMS_LEASE_MS: '8000',
        COMMS_POLL_MS: '200',
        COMMS_PROVIDER_TIMEOUT_MS: '5000',
        // A loaded CI box can make local fakes time out now and then; that must not end in `dead`.
        COMMS_MAX_ATTEMPTS: '25',
        COMMS_RETRY_BASE_MS: '200',
        COMMS_RETRY_CAP_MS: '2000',
        COMMS_ONLINE_CONCURRENCY: '8',
        COMMS_STOP_GRACE_MS: '1000',
        // Under the fake's 100/s flood limit, shared by the three dispatchers.
        COMMS_PACE: 'telegram_bot=80',
      });
      stack = new Stack(env);
      await stack.startApi();
      const tenants: Tenant[] = [];
      for (const id of ['chaos-a', 'chaos-b', 'chaos-c']) {
        tenants.push(
          await stack.createTenant(id, [
            { id: 'kitchen-1', role: 'kitchen' },
            { id: 'kitchen-2', role: 'kitchen' },
            { id: 'pos-1', role: 'pos' },
          ]),
        );
      }
      await Promise.all(Array.from({ length: DISPATCHERS }, (_, s) => stack!.startDispatcher(s)));

      // Producer: every message once, 16 in flight; each answer classified.
      const acked = new Map<string, string>(); // key → outbox id
      const channelOf = new Map<string, Channel>();
      const refused = new Map<string, { status: number; error: string }>();
      let next = 0;
      const producing = Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < MESSAGES) {
            const m = message(next++, tenants);
            channelOf.set(m.key, m.channel);
            try {
              const r = await stack!.request('/api/v1/outbox', { token: m.tenant.token, body: m.body });
              if (r.status === 202) acked.set(m.key, r.json.id as string);
              else refused.set(m.key, { status: r.status, error: String(r.json.error) });
            } catch (err) {
              refused.set(m.key, { status: 0, error: String(err) });
            }
          }
        }),
      );

      // Nemesis, once the dispatchers have work: 20 kill -9s of a random running dispatcher, each
      // restarted at once; two PostgreSQL restarts woven in.
      await waitFor(async () => acked.size >= 1_500, 300_000, 100);
      const restarts: Promise<unknown>[] = [];
      const pgRestarts: Promise<void>[] = [];
      const killed: number[] = [];
      for (let k = 1; k <= KILLS; k++) {
        await sleep(rand(500, 3_000));
        const running = stack.dispatchers.map((d, s) => (d ? s : -1)).filter((s) => s >= 0);
        if (running.length === 0) {
          await Promise.all(restarts);
          k--;
          continue;
        }
        const slot = running[Math.floor(Math.random() * running.length)]!;
        killed.push(await stack.kill9(slot));
        if (k % 5 === 0) {
          const why: Record<string, number> = {};
          for (const r of refused.values())
            why[`${r.status} ${r.error}`] = (why[`${r.status} ${r.error}`] ?? 0) + 1;
          console.log(
            `chaos +${((Date.now() - t0) / 1000).toFixed(0)} s: kill ${k}, produced ${next}, acked ${acked.size}, refused ${JSON.stringify(why)}, api exit ${stack.api.proc.exitCode}/${stack.api.proc.signalCode} (${loadavg()[0]!.toFixed(1)} load)`,
          );
        }
        restarts.push(stack.startDispatcher(slot));
        if (k === 6 || k === 14) pgRestarts.push(cluster.restart());
      }
      await Promise.all(pgRestarts);
      await Promise.all(restarts);
      await producing;
      const tChaos = Date.now();
      // No process died on its own (a PostgreSQL restart must not crash the API or a dispatcher).
      expect(stack.crashes).toEqual([]);

      // Drain: every acknowledged row reaches a final state.
      const db = new pg.Pool({ connectionString: cluster.url, max: 2 });
      const progress = setInterval(() => {
        db.query(`SELECT status, count(*)::int AS n FROM outbox WHERE source = 'chaos_test' GROUP BY 1`)
          .then((r) =>
            console.log(
              `chaos progress +${((Date.now() - t0) / 1000).toFixed(0)} s: ${r.rows.map((x) => `${x.status} ${x.n}`).join(', ')} (${loadavg()[0]!.toFixed(1)} load)`,
            ),
          )
          .catch(() => undefined);
      }, 15_000);
      try {
        await waitFor(
          async () => {
            const r = await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM outbox WHERE source = 'chaos_test' AND status IN ('queued', 'ready', 'sending', 'failed')`,
            );
            return r.rows[0]!.n === 0;
          },
          300_000,
          500,
        ).catch(async (err: Error) => {
          const open = await db.query(
            `SELECT channel, status, last_error_code, count(*)::int AS n, max(attempts) AS max_attempts, min(reason) AS reason
           FROM outbox WHERE source = 'chaos_test' AND status IN ('queued', 'ready', 'sending', 'failed')
           GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 20`,
          );
          const alive = stack!.dispatchers.map((d) => (d ? d.proc.exitCode === null : false));
          throw new Error(
            `${err.message}\nrows not final: ${JSON.stringify(open.rows, null, 1)}\ndispatchers alive: ${JSON.stringify(alive)}\ncrashes: ${JSON.stringify(stack!.crashes, null, 1)}\n` +
              `dispatcher output tail: ${stack!.dispatchers.map((d) => d?.output.slice(-8).join('\n')).join('\n---\n')}`,
          );
        });
        // Let last in-flight webhook/inbox writes settle.
        await sleep(500);
        const tDrained = Date.now();

        // Every 202 is kept; every refusal kept nothing, and was the store saying so.
        const rows = await db.query<{ id: string; key: string; status: string; channel: string }>(
          `SELECT id::text, idempotency_key AS key, status, channel FROM outbox WHERE source = 'chaos_test'`,
        );
        const byKey = new Map(rows.rows.map((r) => [r.key, r]));
        const missing = [...acked].filter(([key, id]) => byKey.get(key)?.id !== id);
        expect(missing).toEqual([]);
        const keptAfterRefusal = [...refused.keys()]
          .filter((k) => byKey.has(k))
          .map((k) => ({ key: k, ...refused.get(k), row: byKey.get(k) }));
        expect(keptAfterRefusal).toEqual([]);
        const refusals = [...refused.values()];
        expect(refusals.filter((r) => r.status !== 503 || r.error !== 'store_unavailable')).toEqual([]);
        expect(acked.size + refused.size).toBe(MESSAGES);

        // Final states: sent (LAN: handed to the hub, or delivered); nothing dead, nothing in sending.
        const statuses: Record<string, number> = {};
        for (const r of rows.rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        const notSent = await db.query(
          `SELECT channel, status, last_error_code, count(*)::int AS n, max(attempts) AS attempts, min(reason) AS reason
         FROM outbox WHERE source = 'chaos_test' AND status NOT IN ('sent', 'delivered') GROUP BY 1, 2, 3`,
        );
        expect(notSent.rows).toEqual([]);

        // Receipts keyed by outbox id.
        const ackedIds = new Set(acked.values());
        const idOfKey = (key: string) => acked.get(key) ?? `unacked:${key}`;
        const receipts = new Map<string, number>();
        const add = (id: string) => receipts.set(id, (receipts.get(id) ?? 0) + 1);
        for (const r of fakes.wa.receipts) add(String(r.body.message.biz_opaque_callback_data));
        for (const r of fakes.tg.receipts)
          add(idOfKey(/\((chaos-\d+)\)/.exec(String(r.body.message.text))?.[1] ?? 'none'));
        for (const m of fakes.smtp.received) add(String(m.mail.headers.get('x-mupza-outbox-id')));
        // LAN: the hub's durable inbox is the receipt log (one entry per device; a row counts once).
        const inbox = await db.query<{ id: string; devices: number }>(
          `SELECT outbox_id::text AS id, count(*)::int AS devices FROM lan_inbox GROUP BY outbox_id`,
        );
        for (const r of inbox.rows) {
          add(r.id);
          expect(r.devices).toBe(2); // both kitchen screens, each once (unique per device and row)
        }

        const lost = [...ackedIds].filter((id) => !receipts.has(id));
        const unexpected = [...receipts.keys()].filter((id) => !ackedIds.has(id));
        const duplicated = [...receipts].filter(([, n]) => n > 1);
        const duplicates = duplicated.reduce((s, [, n]) => s + n - 1, 0);

        // Each duplicate is explained: the row had a lease that expired (its dispatcher was killed,
        // or could not record the outcome while PostgreSQL was away) and a later lease sent it again.
        const expired = await db.query<{ id: string; actor: string; lease_owner: string }>(
          `SELECT e.entity_id AS id, e.actor,
           (SELECT c.actor FROM audit_events c WHERE c.entity_id = e.entity_id AND c.action = 'claimed' AND c.id < e.id ORDER BY c.id DESC LIMIT 1) AS lease_owner
         FROM audit_events e WHERE e.action = 'lease_expired' AND e.entity = 'outbox'`,
        );
        const expiredIds = new Set(expired.rows.map((r) => r.id));
        // Or an earlier attempt ended without a definite provider answer (a timeout or a broken
        // connection after the request went out: `<provider>_<code>` is a definite refusal).
        const uncertain = await db.query<{ id: string }>(
          `SELECT DISTINCT outbox_id::text AS id FROM outbox_attempts
         WHERE outcome IN ('retryable', 'released') AND error_code !~ '^[a-z]+_[0-9]+$'`,
        );
        const uncertainIds = new Set(uncertain.rows.map((r) => r.id));
        const unexplained = duplicated.filter(([id]) => !expiredIds.has(id) && !uncertainIds.has(id));
        const byExpiry = duplicated.filter(([id]) => expiredIds.has(id)).length;
        const pidOf = (worker: string) => Number(worker.split(':')[2]);
        const killedPids = new Set(killed);
        const expiredByKilled = expired.rows.filter((r) => killedPids.has(pidOf(r.lease_owner))).length;

        // The single-claim invariant held throughout: no two overlapping leases on any row.
        const { leases, violations } = await checkLeases(
          {
            query: (sql: string, params?: readonly unknown[]) => db.query(sql, params as unknown[]),
          } as never,
          rows.rows.map((r) => r.id),
        );

        const perChannel: Record<string, number> = {};
        for (const key of acked.keys())
          perChannel[channelOf.get(key)!] = (perChannel[channelOf.get(key)!] ?? 0) + 1;
        const tgRateLimited = fakes.tg.rejections.filter((r) => r.status === 429).length;
        console.log(
          `chaos summary: ${MESSAGES} messages (${JSON.stringify(perChannel)}), acked ${acked.size}, refused ${refused.size} (503 store_unavailable while PostgreSQL restarted), ` +
            `kills ${killed.length}, PostgreSQL restarts ${pgRestarts.length}; lost ${lost.length}, unexpected ${unexpected.length}, ` +
            `duplicates ${duplicates} on ${duplicated.length} rows (${byExpiry} after an expired lease, the rest after a send without a definite answer; ` +
            `expired leases ${expired.rows.length}, ${expiredByKilled} of them held by killed dispatchers), ` +
            `leases ${leases.length}, telegram 429s ${tgRateLimited}; chaos phase ${((tChaos - t0) / 1000).toFixed(1)} s, drained ${((tDrained - tChaos) / 1000).toFixed(1)} s later`,
        );

        expect(stack.crashes).toEqual([]);
        expect(lost).toEqual([]);
        expect(unexpected).toEqual([]);
        expect(unexplained).toEqual([]);
        expect(violations).toEqual([]);
        expect(statuses.sending ?? 0).toBe(0);
        expect(killed).toHaveLength(KILLS);
        // PostgreSQL really was away for the API at least once, and said so with a 503.
        expect(refusals.length).toBeGreaterThan(0);
        // No secret value in any stored row either (attempt requests, audit details, …).
        await scanDbForCanaries({
          query: (sql: string, params?: readonly unknown[]) => db.query(sql, params as unknown[]),
        } as never);
      } finally {
        clearInterval(progress);
        await db.end();
        stack.scanOutput();
      }
    }, 900_000);
  },
);
