import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/**
 * Read-only access to the official provider specs vendored in vendor/provider-specs (its README
 * names source, commit, license and checksum of each file).
 */
export const SPECS_DIR = fileURLToPath(new URL('../../vendor/provider-specs/', import.meta.url));

const cache = new Map<string, unknown>();

function load(rel: string, parse: (text: string) => unknown): unknown {
  let doc = cache.get(rel);
  if (doc === undefined) {
    const file = `${SPECS_DIR.replace(/\/$/, '')}/${rel}`;
    doc = parse(readFileSync(file, 'utf8'));
    cache.set(rel, doc);
  }
  return doc;
}

export const loadJsonSpec = (rel: string): unknown => load(rel, (t) => JSON.parse(t) as unknown);
export const loadYamlSpec = (rel: string): unknown => load(rel, (t) => parseYaml(t) as unknown);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Turns an OpenAPI schema into a self-contained JSON Schema Ajv can compile: inlines local $refs,
 * drops vendor `x-*` keys, and drops `nullable` where there is no `type` (Ajv refuses that pair,
 * and Twilio's `lookup` uses it).
 */
export function inlineOpenApiSchema(doc: unknown, schema: unknown, depth = 0): Json {
  if (depth > 40) throw new Error('inlineOpenApiSchema: $ref nesting too deep (cycle?)');
  if (Array.isArray(schema)) return schema.map((s) => inlineOpenApiSchema(doc, s, depth + 1));
  if (typeof schema !== 'object' || schema === null) return schema as Json;
  const obj = schema as Record<string, unknown>;
  if (typeof obj.$ref === 'string') return inlineOpenApiSchema(doc, resolvePointer(doc, obj.$ref), depth + 1);
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith('x-') || k === 'example' || k === 'examples') continue;
    out[k] = inlineOpenApiSchema(doc, v, depth + 1);
  }
  if (out.nullable !== undefined && out.type === undefined) delete out.nullable;
  return out;
}

export function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
  let cur: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof cur !== 'object' || cur === null || !(key in cur)) throw new Error(`unresolved $ref ${ref}`);
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
