/**
 * One pg-boss worker process for bench/scale-out.ts: `workers` no-op workers on queue "bench", each
 * fetching `batch` jobs per poll at pg-boss's shortest polling interval (0.5 s).
 *
 *   node bin/run-ts.mjs bench/pgboss-worker.ts <connectionString> <workers> <batch>
 */
import PgBoss from 'pg-boss';

const [url, workers = '2', batch = '100'] = process.argv.slice(2);
if (!url) throw new Error('usage: pgboss-worker.ts <connectionString> <workers> <batch>');
const boss = new PgBoss({
  connectionString: url,
  max: Number(workers) + 2,
  supervise: false,
  schedule: false,
  migrate: false,
});
boss.on('error', (err: Error) => process.stderr.write(`pg-boss error: ${err.message}\n`));
await boss.start();
for (let i = 0; i < Number(workers); i++) {
  await boss.work('bench', { batchSize: Number(batch), pollingIntervalSeconds: 0.5 }, async () => undefined);
}
process.stdout.write('pg-boss worker ready\n');
process.on('SIGTERM', () => {
  void boss.stop({ graceful: true, wait: true }).then(() => process.exit(0));
});
