import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { canTransition, type Status } from '../../src/core/status.ts';

/**
 * Model-based test of the outbox row state machine (fc.commands): random sequences of enqueue,
 * opt-in changes, cancel and retry against the real service and dispatcher, compared after every
 * step with a model of the documented lifecycle. Every audited transition must be an allowed one
 * and every row's status must equal its last audit event.
 */
type Ch = 'email' | 'whatsapp' | 'telegram' | 'otp_sms';
interface Model {
  optIns: Record<Ch, boolean>;
  rows: { id: string; channel: Ch; status: Status }[];
}
interface Real {
  app: TestApp;
}

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

async function settle(app: TestApp) {
  await waitFor(
    async () => {
      const r = await app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE status IN ('ready', 'sending')`,
      );
      return r.rows[0]!.n === 0;
    },
    10_000,
    10,
  );
}

async function statusOf(app: TestApp, id: string): Promise<Status> {
  const r = await app.db.query<{ status: Status }>('SELECT status FROM outbox WHERE id = $1', [id]);
  return r.rows[0]!.status;
}

/** What the gate and the dry-run dispatcher make of a row that is (re)evaluated now. */
function evaluated(ch: Ch, optIns: Model['optIns']): Status {
  if (ch === 'otp_sms') return 'blocked'; // no OTP provider env in this test
  return optIns[ch] ? 'mock_sent' : 'queued';
}

class Enqueue implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ch: Ch) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const target = this.ch === 'email' ? 'm@example.az' : this.ch === 'telegram' ? '424242' : '+994501234567';
    const res = await r.app.as(r.app.ownerToken, {
      method: 'POST',
      url: '/api/v1/outbox',
      payload: { channel: this.ch, target, body: 'model' },
    });
    expect(res.statusCode).toBe(202);
    const id = (res.json() as { id: string }).id;
    await settle(r.app);
    m.rows.push({ id, channel: this.ch, status: evaluated(this.ch, m.optIns) });
    expect(await statusOf(r.app, id)).toBe(m.rows.at(-1)!.status);
  }
  toString = () => `enqueue(${this.ch})`;
}

class SetOptIn implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly ch: Ch,
    readonly on: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const res = await r.app.as(r.app.ownerToken, {
      method: 'PUT',
      url: '/api/v1/tenant/policy',
      payload: { optIns: { [this.ch]: this.on } },
    });
    expect(res.statusCode).toBe(200);
    m.optIns[this.ch] = this.on;
    await settle(r.app);
    for (const row of m.rows)
      if (row.status === 'queued' && row.channel === this.ch && this.on)
        row.status = evaluated(row.channel, m.optIns);
    for (const row of m.rows)
      expect(await statusOf(r.app, row.id), `${row.channel} ${row.id}`).toBe(row.status);
  }
  toString = () => `optIn(${this.ch}=${this.on})`;
}

class Cancel implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.rows.length > 0;
  async run(m: Model, r: Real) {
    const row = m.rows[this.pick % m.rows.length]!;
    const res = await r.app.as(r.app.ownerToken, { method: 'POST', url: `/api/v1/outbox/${row.id}/cancel` });
    if (['queued', 'ready', 'failed', 'blocked'].includes(row.status)) {
      expect(res.statusCode).toBe(200);
      row.status = 'cancelled';
    } else {
      expect(res.statusCode).toBe(409);
    }
    expect(await statusOf(r.app, row.id)).toBe(row.status);
  }
  toString = () => `cancel(#${this.pick})`;
}

class Retry implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.rows.length > 0;
  async run(m: Model, r: Real) {
    const row = m.rows[this.pick % m.rows.length]!;
    const res = await r.app.as(r.app.ownerToken, { method: 'POST', url: `/api/v1/outbox/${row.id}/retry` });
    const next = evaluated(row.channel, m.optIns);
    const retryable = ['failed', 'dead', 'blocked', 'expired', 'queued'].includes(row.status);
    // A retry that would land the row where it is (blocked → blocked) is refused with 409.
    if (retryable && !(next === row.status && next !== 'queued')) {
      expect(res.statusCode, res.body).toBe(200);
      row.status = next;
    } else {
      expect(res.statusCode, res.body).toBe(409);
    }
    await settle(r.app);
    expect(await statusOf(r.app, row.id)).toBe(row.status);
  }
  toString = () => `retry(#${this.pick})`;
}

describe('outbox row state machine, model-based [pglite]', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('pglite', {
      optIns: { email: true, whatsapp: false, telegram: false, otp_sms: true, in_app: true },
    });
  });
  afterAll(() => app.close());

  it(`matches the model (seed ${SEED})`, async () => {
    const chs = fc.constantFrom<Ch>('email', 'whatsapp', 'telegram', 'otp_sms');
    const cmds = [
      chs.map((c) => new Enqueue(c)),
      fc
        .tuple(fc.constantFrom<Ch>('email', 'whatsapp', 'telegram'), fc.boolean())
        .map(([c, b]) => new SetOptIn(c, b)),
      fc.nat().map((n) => new Cancel(n)),
      fc.nat().map((n) => new Retry(n)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(cmds, { maxCommands: 12 }), async (seq) => {
        await app.as(app.ownerToken, {
          method: 'PUT',
          url: '/api/v1/tenant/policy',
          payload: { optIns: { email: true, whatsapp: false, telegram: false } },
        });
        const model: Model = {
          optIns: { email: true, whatsapp: false, telegram: false, otp_sms: true },
          rows: [],
        };
        await fc.asyncModelRun(() => ({ model, real: { app } }), seq);
      }),
      { seed: SEED, numRuns: 25 },
    );
    // Every audited transition is one the lifecycle allows, and each row ends where its audit ends.
    const audit = await app.db.query<{ entity_id: string; from_status: Status | null; to_status: Status }>(
      `SELECT entity_id, from_status, to_status FROM audit_events WHERE entity = 'outbox' ORDER BY id`,
    );
    for (const e of audit.rows)
      expect(canTransition(e.from_status ?? 'new', e.to_status), `${e.from_status}→${e.to_status}`).toBe(
        true,
      );
    const consistent = await app.db.query<{ ok: boolean }>(
      `SELECT bool_and(o.status = (SELECT to_status FROM audit_events a WHERE a.entity = 'outbox' AND a.entity_id = o.id::text ORDER BY a.id DESC LIMIT 1)) AS ok FROM outbox o`,
    );
    expect(consistent.rows[0]!.ok).toBe(true);
  }, 180_000);
});
