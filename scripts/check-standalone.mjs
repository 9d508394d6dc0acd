#!/usr/bin/env node
// The repository stands alone: no tracked file may point at a path outside it (for example a
// sibling folder of the checkout). Every relative path that climbs with `../` is resolved from the
// file's folder and from the repository root; if both land outside the repository, it is reported.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter(Boolean);
const climbing = /(?:\.\.\/)+[\w@.-][\w@./-]*/g;
const inside = (p) => p === root || p.startsWith(root + path.sep);
const found = [];
for (const rel of files) {
  if (rel.startsWith('vendor/') || rel === 'package-lock.json') continue;
  let text;
  try {
    text = readFileSync(path.join(root, rel), 'utf8');
  } catch {
    continue;
  }
  if (text.includes('\0')) continue;
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(climbing)) {
      const fromFile = path.resolve(root, path.dirname(rel), m[0]);
      const fromRoot = path.resolve(root, m[0]);
      if (!inside(fromFile) && !inside(fromRoot)) found.push(`${rel}:${i + 1}: ${m[0]}`);
    }
  });
}
if (found.length > 0) {
  console.error(`tracked files refer to paths outside the repository:\n${found.join('\n')}`);
  process.exit(1);
}
console.log(`standalone: ${files.length} tracked files, no path outside the repository`);
