/**
 * Lints the OpenAPI document the service serves (GET /openapi.json) with Redocly's recommended
 * rules: the app is built in memory (embedded store, nothing listens, no provider is called), the
 * document is written to a temporary file, and `redocly lint` runs on it. Exit code: redocly's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config/config.ts';
import { Runtime } from '../src/app/runtime.ts';
import { defaultModules } from '../src/app/modules.ts';
import { PgliteDb } from '../src/store/pglite-driver.ts';

const quiet = new Writable({ write: (_c, _e, cb) => cb() });
const config = loadConfig({ MUPZA_RUNTIME: 'qa', LOG_LEVEL: 'silent' });
const rt = new Runtime(config, {
  mode: 'api',
  modules: defaultModules(config),
  db: await PgliteDb.open({}),
  logDestination: quiet,
  seedDemo: false,
});
await rt.init();
const res = await rt.http!.inject({ method: 'GET', url: '/openapi.json' });
await rt.stop();
if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}`);

const dir = mkdtempSync(join(tmpdir(), 'mupza-openapi-'));
const file = join(dir, 'openapi.json');
// Pretty-printed, so problems are reported by line.
writeFileSync(file, JSON.stringify(JSON.parse(res.body), null, 2));
const redocly = fileURLToPath(new URL('../node_modules/.bin/redocly', import.meta.url));
const run = spawnSync(redocly, ['lint', file, '--extends=recommended', '--format=stylish'], {
  stdio: 'inherit',
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
});
rmSync(dir, { recursive: true, force: true });
process.exit(run.status ?? 1);
