import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';

export interface AdapterDeps {
  config: Config;
  redactor: Redactor;
}

/** Missing env names among `names` (names only; values never leave config). */
export function missingOf(config: Config, names: readonly string[]): string[] {
  return names.filter((n) => !config.configured.has(n));
}

/** A value for a rendered request: the real value when set, else the env name as a placeholder. */
export function valueOr(config: Config, name: string): string {
  const v = (config.env as Record<string, unknown>)[name];
  return v === undefined || v === null || v === '' ? `{${name}}` : String(v);
}

export function baseUrl(u: string): string {
  return u.replace(/\/+$/, '');
}
