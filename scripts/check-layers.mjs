// Fails when a folder of src/ imports one that imports it back (directly or round a longer loop),
// or when anything below the composition root (src/app) imports it. Prints the offending imports.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const SRC = 'src';
const folderOf = (file) => relative(SRC, file).split('/')[0];
const edges = new Map(); // folder -> Map(folder -> [file imports spec])
const files = readdirSync(SRC, { recursive: true })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(SRC, f));
for (const file of files) {
  const from = folderOf(file);
  for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
    const target = normalize(join(dirname(file), m[1]));
    if (!target.startsWith(`${SRC}/`) || !target.slice(SRC.length + 1).includes('/')) continue;
    const to = folderOf(target);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    const e = edges.get(from);
    if (!e.has(to)) e.set(to, []);
    e.get(to).push(`${file} imports ${m[1]}`);
  }
}

// Tarjan's strongly connected components: any component of two or more folders is a loop.
let index = 0;
const idx = new Map(),
  low = new Map(),
  stack = [],
  on = new Set(),
  loops = [];
function visit(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  on.add(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!idx.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1) loops.push(comp);
  }
}
for (const v of edges.keys()) if (!idx.has(v)) visit(v);

let failed = false;
for (const comp of loops) {
  failed = true;
  console.error(`folders that import each other: ${comp.join(', ')}`);
  for (const a of comp)
    for (const [b, why] of edges.get(a) ?? [])
      if (comp.includes(b)) for (const w of why) console.error(`  ${w}`);
}
for (const [from, e] of edges) {
  if (from === 'app' || from === 'cli') continue;
  for (const w of e.get('app') ?? []) {
    failed = true;
    console.error(`below the composition root: ${w}`);
  }
}
if (failed) process.exit(1);
console.log(`src/: ${edges.size} folders, no import loop, nothing below src/app imports it`);
