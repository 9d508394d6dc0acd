import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { sealTenant, verifyTenant } from '../../src/audit/chain.ts';
import { PgliteDb } from '../../src/store/pglite-driver.ts';
import { CLI_FROM_SOURCES, freePort, startChild, type ChildService } from '../helpers/child.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp } from '../helpers/runtime.ts';

const run = promisify(execFile);
const ADMIN = 'operator-token-for-the-backup-test-0123456789';
const OWNER = 'mz_owner_backup-test-owner-token-0123456789';

/** Runs the command line from the sources; resolves with its exit code and output. */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [...CLI_FROM_SOURCES, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), LOG_LEVEL: 'warn', ...env },
      maxBuffer: 16 << 20,
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

describe('backup and restore of the embedded store [pglite]', () => {
  let work = '';
  let child: ChildService | null = null;
  afterAll(async () => {
    await child?.kill('SIGTERM');
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a backup taken through the running service while messages are enqueued restores into an empty dir with every acknowledged row and a verifying audit chain', async () => {
    work = await mkdtemp(join(tmpdir(), 'comms-backup-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = startChild('serve', {
      DATA_DIR: join(work, 'live'),
      PORT: String(port),
      HOST: '127.0.0.1',
      COMMS_ADMIN_TOKEN: ADMIN,
      COMMS_BOOTSTRAP_OWNER_TOKEN: OWNER,
    });
    await child.waitForLine(/API and owner panel/, 90_000);

    // Writers keep enqueueing through the API; each acknowledged id is kept with when it was acknowledged.
    const acked: { id: string; at: number }[] = [];
    const refused: string[] = [];
    let writing = true;
    let n = 0;
    const writer = async () => {
      while (writing && refused.length === 0) {
        const i = n++;
        try {
          const res = await fetch(`${base}/api/v1/outbox`, {
            method: 'POST',
            headers: { authorization: `Bearer ${OWNER}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              channel: i % 2 ? 'email' : 'in_app',
              target: i % 2 ? `guest${i}@example.com` : 'kitchen',
              title: `Order ${i}`,
              body: `Order ${i} is ready`,
              source: 'backup-test',
            }),
          });
          if (res.status >= 300) refused.push(`${res.status} ${await res.text()}`);
          else acked.push({ id: ((await res.json()) as { id: string }).id, at: Date.now() });
        } catch (err) {
          refused.push(String(err));
        }
      }
    };
    /** Waits until `count` rows are acknowledged (or a write was refused, which fails the test below). */
    const ackedReach = async (count: number) => {
      const until = Date.now() + 60_000;
      while (acked.length < count && refused.length === 0 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
    };
    const writers = Promise.all([writer(), writer(), writer()]);
    await ackedReach(30);

    const file = join(work, 'backup.tar.gz');
    const startedAt = Date.now();
    const backup = await cli(['backup', '--out', file, '--url', base], { COMMS_ADMIN_TOKEN: ADMIN });
    const ackedBefore = acked.filter((a) => a.at < startedAt).map((a) => a.id);
    const ackedDuring = acked.filter((a) => a.at >= startedAt).length;
    // Writing goes on for a moment after the snapshot, then stops.
    await ackedReach(acked.length + 10);
    writing = false;
    await writers;
    expect(refused).toEqual([]);
    // The service kept acknowledging while the backup ran.
    expect(ackedDuring).toBeGreaterThan(0);
    expect(backup, backup.out).toMatchObject({ code: 0 });
    expect(existsSync(`${file}.partial`)).toBe(false);
    expect(gunzipSync(await readFile(file)).length).toBeGreaterThan(1_000_000);

    const restored = join(work, 'restored');
    const r = await cli(['restore', '--in', file, '--data-dir', restored], {});
    expect(r, r.out).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/Restored into .*: 1 tenants, \d+ outbox rows/);

    // A second restore into the same (now full) directory is refused and changes nothing.
    const before = readdirSync(restored).sort();
    const again = await cli(['restore', '--in', file, '--data-dir', restored], {});
    expect(again.code, again.out).toBe(2);
    expect(again.out).toContain('not empty');
    expect(readdirSync(restored).sort()).toEqual(before);

    const db = await PgliteDb.open({ dataDir: restored });
    try {
      const ids = new Set((await db.query<{ id: string }>('SELECT id FROM outbox')).rows.map((x) => x.id));
      expect(ackedBefore.length).toBeGreaterThanOrEqual(30);
      expect(ackedBefore.filter((id) => !ids.has(id))).toEqual([]);
      // Every row in the copy has its audit trail (written in the same statement as the row).
      const orphans = await db.query<{ id: string }>(
        `SELECT o.id FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.entity = 'outbox' AND a.entity_id = o.id::text)`,
      );
      expect(orphans.rows).toEqual([]);
      for (const { id } of (await db.query<{ id: string }>('SELECT id FROM tenants')).rows) {
        while ((await sealTenant(db, id)) > 0);
        const v = await verifyTenant(db, id);
        expect(v, `${id}: ${JSON.stringify(v.firstBroken)}`).toMatchObject({ ok: true });
        if (id === 'demo') expect(v.checked).toBeGreaterThanOrEqual(ackedBefore.length);
      }
    } finally {
      await db.close();
    }
  }, 360_000);

  it('restore refuses a file that is not a backup and leaves the directory empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'comms-restore-'));
    try {
      await writeFile(join(dir, 'junk.bin'), 'not gzip at all');
      await writeFile(
        join(dir, 'junk.tar.gz'),
        gzipSync(Buffer.from('a gzip, but no data directory inside')),
      );
      const target = join(dir, 'target');
      const notGzip = await cli(['restore', '--in', join(dir, 'junk.bin'), '--data-dir', target], {});
      expect(notGzip.code).toBe(2);
      expect(notGzip.out).toContain('not a backup');
      const noStore = await cli(['restore', '--in', join(dir, 'junk.tar.gz'), '--data-dir', target], {});
      expect(noStore.code).toBe(1);
      expect(noStore.out).toContain('could not be restored');
      expect(existsSync(target) ? readdirSync(target) : []).toEqual([]);
      const missing = await cli(['restore'], {});
      expect(missing.code).toBe(2);
      await mkdir(join(dir, 'full'));
      await writeFile(join(dir, 'full', 'PG_VERSION'), '17');
      const full = await cli(
        ['restore', '--in', join(dir, 'junk.tar.gz'), '--data-dir', join(dir, 'full')],
        {},
      );
      expect(full.code).toBe(2);
      expect(await readFile(join(dir, 'full', 'PG_VERSION'), 'utf8')).toBe('17');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('GET /api/v1/admin/backup', async () => {
  for (const kind of await drivers()) {
    it(`needs the operator token; PGlite answers a tar, PostgreSQL points to pg_dump [${kind}]`, async () => {
      const app = await createTestApp(kind, { env: { COMMS_ADMIN_TOKEN: ADMIN } });
      try {
        expect((await app.inject({ method: 'GET', url: '/api/v1/admin/backup' })).json()).toMatchObject({
          error: 'unauthorized',
        });
        expect(
          (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/admin/backup' })).statusCode,
        ).toBe(401);
        expect((await app.as(`${ADMIN}x`, { method: 'GET', url: '/api/v1/admin/backup' })).statusCode).toBe(
          401,
        );
        const res = await app.as(ADMIN, { method: 'GET', url: '/api/v1/admin/backup' });
        if (kind === 'pglite') {
          expect(res.statusCode).toBe(200);
          expect(res.headers['content-type']).toBe('application/x-tar');
          const tar = res.rawPayload;
          // A tar of the data directory: its first entry names a file under it.
          expect(tar.subarray(0, 100).toString('latin1')).toMatch(/^[\w./-]+/);
          expect(tar.includes(Buffer.from('PG_VERSION'))).toBe(true);
        } else {
          expect(res.statusCode).toBe(409);
          expect(res.json()).toMatchObject({
            error: 'conflict',
            message: expect.stringContaining('pg_dump'),
          });
        }
      } finally {
        await app.close();
      }
    }, 60_000);
  }
  it('answers 401 when no operator token is configured at all [pglite]', async () => {
    const app = await createTestApp('pglite');
    try {
      expect((await app.as(ADMIN, { method: 'GET', url: '/api/v1/admin/backup' })).json()).toMatchObject({
        error: 'unauthorized',
      });
    } finally {
      await app.close();
    }
  }, 60_000);
});
