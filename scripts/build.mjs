#!/usr/bin/env node
// `npm run build`: tsc compiles src/ to dist/ (ESM + .d.ts), the SQL migrations are copied beside
// the compiled migrator, and Vite builds the web apps into web/dist. The running service only
// reads these files; it never transpiles or bundles.
//
//   node scripts/build.mjs             always builds
//   node scripts/build.mjs --if-stale  builds only when a source is newer than the last build
//                                      (`npm start` after a pull or an edit); a package shipped
//                                      without sources is left alone
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const STAMP = join(ROOT, 'dist/.build-stamp');
const SOURCES = [
  'src',
  'web/src',
  'web/index.html',
  'web/device.html',
  'web/vite.config.ts',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
];

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Why a build is needed, or null when dist/ and web/dist are current (or there is nothing to build from). */
export function staleReason() {
  if (!existsSync(join(ROOT, 'src')) || !existsSync(join(ROOT, 'node_modules/typescript'))) return null;
  if (!existsSync(STAMP) || !existsSync(join(ROOT, 'web/dist/index.html'))) return 'no build yet';
  const built = statSync(STAMP).mtimeMs;
  const newer = SOURCES.map((p) => join(ROOT, p)).find((p) => existsSync(p) && newestMtime(p) > built);
  return newer ? `${newer.slice(ROOT.length)} changed since the last build` : null;
}

function run(label, args, env = process.env) {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`build: ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

export function build() {
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  run('tsc', [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  cpSync(join(ROOT, 'src/store/migrations'), join(ROOT, 'dist/store/migrations'), {
    recursive: true,
    filter: (src) => statSync(src).isDirectory() || src.endsWith('.sql'),
  });
  // A production bundle whatever NODE_ENV the caller runs under (vitest sets "test").
  run(
    'vite',
    [
      join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'web/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    {
      ...process.env,
      NODE_ENV: 'production',
    },
  );
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--if-stale')) {
    const reason = staleReason();
    if (reason) {
      console.log(`Building (${reason})…`);
      build();
    }
  } else {
    build();
  }
}
