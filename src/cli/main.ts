import { ConfigError, loadProcessConfig, type Config } from '../config/config.ts';
import { Runtime, type RuntimeMode } from '../app/runtime.ts';
import { computeReadiness } from '../readiness/readiness.ts';
import { createRedactor } from '../core/redact.ts';
import { openStore } from '../store/open.ts';
import { migrate } from '../store/migrate.ts';
import { DataDirLockedError } from '../store/data-dir-lock.ts';
import { callService, reach, readThroughService } from './service-link.ts';
import { getTenant } from '../store/tenants.ts';
import { createRegistry } from '../providers/registry.ts';
import { defaultModules } from '../app/modules.ts';
import { cliCommands } from './commands.ts';

function config(): Config {
  try {
    return loadProcessConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

async function serve(mode: RuntimeMode): Promise<void> {
  const cfg = config();
  const rt = new Runtime(cfg, { mode, modules: defaultModules(cfg) });
  try {
    await rt.init();
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    // A second opener of the embedded store would overwrite the first one's writes.
    console.error(`Not starting: ${err.message}`);
    process.exit(1);
  }
  const url = await rt.start(mode === 'dispatch' ? undefined : { port: cfg.env.PORT, host: cfg.env.HOST });
  const shown = `http://localhost:${cfg.env.PORT}`;
  console.log(
    `MUPZAOS comms ${mode} — runtime ${cfg.runtime}, store ${rt.db.kind}${rt.db.durable ? '' : ' (PGlite: not durable against power loss; use DATABASE_URL for PostgreSQL)'}`,
  );
  if (url) console.log(`API and owner panel on ${shown}`);
  if (rt.seed?.loginToken) {
    console.log(
      `Demo owner login link (valid ${Math.round(cfg.env.SESSION_TTL_S / 3600)} h): ${shown}/#token=${rt.seed.loginToken}`,
    );
  } else if (rt.seed) {
    console.log('Demo owner: sign in with the token in COMMS_BOOTSTRAP_OWNER_TOKEN.');
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping…`);
    try {
      await rt.stop();
    } catch (err) {
      // E.g. the database went away mid-stop: rows still leased are reclaimed when the lease expires.
      console.error(
        `stopping failed: ${rt.redactor.scrub(err instanceof Error ? err.message : String(err))}`,
      );
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function readiness(args: string[]): Promise<void> {
  const cfg = config();
  const target = await reach(args, cfg, 'readiness');
  if (target.kind === 'service') {
    const token = readThroughService(args, cfg, target, 'readiness');
    if (!token) process.exit(2);
    printReadiness(
      (await callService(cfg, target.url, 'GET', '/api/v1/readiness', token)) as Awaited<
        ReturnType<typeof computeReadiness>
      >,
      args,
    );
    return;
  }
  const db = target.db;
  const redactor = createRedactor(cfg.secrets);
  const registry = createRegistry({ config: cfg, redactor }, { lanHub: () => null });
  const tenantId = args.find((a) => a.startsWith('--tenant='))?.slice(9) ?? cfg.defaultTenant;
  const tenant = await getTenant(db, tenantId);
  if (!tenant) {
    console.error(`No tenant "${tenantId}".`);
    process.exit(1);
  }
  const doc = await computeReadiness(
    { db, config: cfg, registry, redactor, secretGuardInstalled: true, lanLaneSeparate: true },
    tenant,
  );
  await db.close();
  printReadiness(doc, args);
}

function printReadiness(doc: Awaited<ReturnType<typeof computeReadiness>>, args: string[]): void {
  if (args.includes('--json')) {
    console.log(JSON.stringify(doc, null, 2));
    return;
  }
  console.log(
    `Tenant ${doc.tenant.id} (${doc.tenant.country} / ${doc.tenant.currency}) — runtime ${doc.runtime} — store ${doc.store.kind}${doc.store.durable ? ' (durable)' : ' (not durable)'}`,
  );
  console.table(doc.summary);
  console.table(Object.entries(doc.flags).map(([flag, value]) => ({ flag, value })));
  console.table(
    doc.adapters.map((a) => ({
      adapter: a.id,
      channel: a.channel,
      mode: a.mode,
      lanSafe: a.lanSafe,
      env: a.env.map((e) => `${e.name}=${e.configured ? 'yes' : 'no'}`).join(' ') || '(none)',
    })),
  );
}

const [cmd = 'serve', ...rest] = process.argv.slice(2);
try {
  switch (cmd) {
    case 'serve':
    case 'api':
    case 'dispatch':
      await serve(cmd === 'serve' ? 'serve' : cmd);
      break;
    case 'migrate': {
      const cfg = config();
      const db = await openStore({
        databaseUrl: cfg.env.DATABASE_URL,
        dataDir: cfg.env.DATA_DIR,
        holder: 'cli migrate',
      });
      const r = await migrate(db);
      await db.close();
      console.log(r.applied.length ? `Applied: ${r.applied.join(', ')}` : 'Up to date.');
      break;
    }
    case 'readiness':
      await readiness(rest);
      break;
    default: {
      const handler = Object.hasOwn(cliCommands, cmd) ? cliCommands[cmd] : undefined;
      if (!handler) {
        console.error(
          `Unknown command "${cmd}". Commands: serve, api, dispatch, migrate, readiness, ${Object.keys(cliCommands).join(', ')}`,
        );
        process.exit(2);
      }
      process.exitCode = await handler(rest, config);
    }
  }
} catch (err) {
  const cfg = (() => {
    try {
      return loadProcessConfig();
    } catch {
      return null;
    }
  })();
  const msg = err instanceof Error ? err.message : String(err);
  console.error(cfg ? createRedactor(cfg.secrets).scrub(msg) : 'failed');
  if (err instanceof DataDirLockedError) {
    console.error(
      'Stop that process first; while serve or api holds it, operator commands run through its API (README: Command line).',
    );
  }
  process.exit(1);
}
