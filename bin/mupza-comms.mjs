#!/usr/bin/env node
// Runs the compiled service (dist/, made by `npm run build`; `npm start` builds it first when a
// source is newer). From the sources, without a build: node bin/run-ts.mjs src/cli/main.ts <command>
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(
    'mupza-comms: dist/ is not built. Run `npm run build` (or `npm start`, which builds when needed).',
  );
  process.exit(2);
}
await import(main.href);
