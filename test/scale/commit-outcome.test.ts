import { createServer, Socket, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, postgresAvailable, type TestDb } from '../helpers/db.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';
import { AppError } from '../../src/core/errors.ts';
import type { Queryable } from '../../src/store/driver.ts';

/**
 * A proxy in front of PostgreSQL that breaks the client's connection at the COMMIT of an armed
 * transaction: either after passing COMMIT on (the server commits, the client never hears) or
 * instead of passing it on (the server rolls back when the connection goes).
 */
class CommitCutter {
  private server: Server | null = null;
  port = 0;
  mode: 'after_commit' | 'before_commit' | null = null;
  /** What marks the armed message: COMMIT of a transaction, or a statement's own text. */
  match = 'COMMIT';
  constructor(private readonly target: number) {}
  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target, '127.0.0.1');
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      upstream.pipe(client);
      client.on('data', (buf: Buffer) => {
        const commit = this.mode && buf.includes(this.match);
        if (commit && this.mode === 'before_commit') {
          this.mode = null;
          client.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(buf);
        if (commit) {
          this.mode = null;
          // The COMMIT reached the server; the answer never reaches the client.
          upstream.unpipe(client);
          client.destroy();
          setTimeout(() => upstream.destroy(), 200);
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as { port: number }).port;
  }
  async down(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

describe.runIf(await postgresAvailable())('a COMMIT whose answer is lost [postgres]', () => {
  let t: TestDb;
  let cutter: CommitCutter;
  let db: PostgresDb;
  beforeAll(async () => {
    t = await createTestDb('postgres');
    await t.db.exec('CREATE TABLE commit_probe (k text PRIMARY KEY)');
    const u = new URL(t.url!);
    cutter = new CommitCutter(Number(u.port || 5432));
    await cutter.up();
    u.host = `127.0.0.1:${cutter.port}`;
    db = await PostgresDb.open(u.toString(), 2);
  });
  afterAll(async () => {
    await db.close();
    await cutter.down();
    await t.cleanup();
  });

  it('committed on the server: the caller is told it succeeded (never "nothing was accepted")', async () => {
    cutter.match = 'COMMIT';
    cutter.mode = 'after_commit';
    const out = await db.tx(async (q) => {
      await q.query(`INSERT INTO commit_probe VALUES ('kept')`);
      return 'ok';
    });
    expect(out).toBe('ok');
    expect(cutter.mode).toBeNull(); // the cut really happened
    expect((await t.db.query(`SELECT k FROM commit_probe WHERE k = 'kept'`)).rows).toHaveLength(1);
  });

  it('never committed: store_unavailable, and nothing was kept', async () => {
    cutter.match = 'COMMIT';
    cutter.mode = 'before_commit';
    const err = await db
      .tx(async (q) => {
        await q.query(`INSERT INTO commit_probe VALUES ('lost')`);
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('store_unavailable');
    expect(cutter.mode).toBeNull();
    expect((await t.db.query(`SELECT k FROM commit_probe WHERE k = 'lost'`)).rows).toHaveLength(0);
  });

  // One statement in its own transaction (how a single enqueue is written): the answer is lost with
  // the connection; once the server process that ran it is gone, the row's key tells what happened.
  const settleProbe = (k: string) => ({
    settle: (q: Queryable) => q.query<{ k: string }>('SELECT k FROM commit_probe WHERE k = $1', [k]),
  });

  it('one statement that committed before the answer was lost: the caller gets the stored row', async () => {
    cutter.match = 'atomic-kept';
    cutter.mode = 'after_commit';
    const r = await db.atomic<{ k: string }>(
      `INSERT INTO commit_probe VALUES ('atomic-kept') RETURNING k`,
      [],
      settleProbe('atomic-kept'),
    );
    expect(cutter.mode).toBeNull();
    expect(r.rows).toEqual([{ k: 'atomic-kept' }]);
  });

  it('one statement that never reached the server: store_unavailable, and nothing was kept', async () => {
    cutter.match = 'atomic-lost';
    cutter.mode = 'before_commit';
    const err = await db
      .atomic(`INSERT INTO commit_probe VALUES ('atomic-lost') RETURNING k`, [], settleProbe('atomic-lost'))
      .catch((e: unknown) => e);
    expect(cutter.mode).toBeNull();
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('store_unavailable');
    expect((await t.db.query(`SELECT k FROM commit_probe WHERE k = 'atomic-lost'`)).rows).toHaveLength(0);
  });
});
