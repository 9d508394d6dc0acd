import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Is web/dist a current build of the panel? The browser suite (test/browser/browser.ts) rebuilds
 * before testing unless it is; `npm start` rebuilds everything through scripts/build.mjs --if-stale.
 *
 * - missing: no web/dist/index.html;
 * - stale: a file under web/src, web/index.html or web/vite.config.ts is newer than the build
 *   (a pull or an edit since the last build);
 * - development: the bundle is a development React build (made with NODE_ENV other than
 *   production), which owners never get;
 * - fresh: serve it as it is. Also when the sources are not there (a package shipped with
 *   web/dist only): there is nothing to rebuild from.
 */
export type PanelBuildState = 'missing' | 'stale' | 'development' | 'fresh';

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function isDevelopmentBundle(root: string, index: string): boolean {
  const scripts = [...readFileSync(index, 'utf8').matchAll(/src="\/(assets\/[^"]+\.js)"/g)].map((m) =>
    join(root, 'web/dist', m[1]!),
  );
  return scripts.some(
    (f) => existsSync(f) && readFileSync(f, 'utf8').includes('Each child in a list should have a unique'),
  );
}

/** `root` is the repository (package) root, the directory holding web/. */
export function panelBuildState(root: string): PanelBuildState {
  const index = join(root, 'web/dist/index.html');
  if (!existsSync(index)) return 'missing';
  const sources = ['web/src', 'web/index.html', 'web/device.html', 'web/vite.config.ts']
    .map((p) => join(root, p))
    .filter((p) => existsSync(p));
  if (sources.length === 0) return 'fresh';
  const newest = Math.max(...sources.map(newestMtime));
  if (statSync(index).mtimeMs < newest) return 'stale';
  if (isDevelopmentBundle(root, index)) return 'development';
  return 'fresh';
}
