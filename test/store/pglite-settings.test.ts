import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import type { Db } from '../../src/store/driver.ts';
import { testConfig } from '../helpers/runtime.ts';

describe('PGlite memory settings (PGLITE_SHARED_BUFFERS, PGLITE_WORK_MEM) [pglite]', () => {
  let db: Db | null = null;
  afterEach(async () => {
    await db?.close();
    db = null;
  });

  it('are passed to PGlite at start', async () => {
    db = await openStore({
      dataDir: 'memory://',
      pgliteSettings: { shared_buffers: '16MB', work_mem: '1MB' },
    });
    expect((await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0]!.shared_buffers).toBe(
      '16MB',
    );
    expect((await db.query<{ work_mem: string }>('SHOW work_mem')).rows[0]!.work_mem).toBe('1MB');
  }, 60_000);

  it("default to a small page cache (16MB) and PostgreSQL's work_mem, and refuse anything but a size", () => {
    expect(testConfig().env).toMatchObject({ PGLITE_SHARED_BUFFERS: '16MB', PGLITE_WORK_MEM: '4MB' });
    for (const bad of ['lots', '16 MB', '0MB', '16GB', '16MB -c fsync=on']) {
      expect(() => testConfig({ PGLITE_SHARED_BUFFERS: bad }), bad).toThrow(/PGLITE_SHARED_BUFFERS/);
    }
  });
});
