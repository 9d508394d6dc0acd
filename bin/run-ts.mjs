#!/usr/bin/env node
// Runs one TypeScript script (benchmarks, tools) through tsx: node bin/run-ts.mjs path/to/script.ts [args]
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
register();
const script = process.argv[2];
if (!script) throw new Error('usage: run-ts.mjs <script.ts> [args]');
process.argv.splice(1, 1);
await import(pathToFileURL(resolve(script)).href);
