import type { Config } from '../config/config.ts';
import { flag } from './command.ts';
import { AppError } from '../core/errors.ts';
import { createRedactor } from '../core/redact.ts';
import { httpCall, TransportError, type HttpRequest } from '../providers/http.ts';
import { DataDirLockedError, type LockHolder } from '../store/data-dir-lock.ts';
import type { Db } from '../store/driver.ts';
import { migrate } from '../store/migrate.ts';
import { openStore } from '../store/open.ts';

/**
 * How a CLI command reaches the data: the embedded store has one opener at a time, so while a
 * service holds DATA_DIR the CLI talks to that service over HTTP instead of opening the store a
 * second time (whose writes the service would never see, and overwrite).
 */

/** Commands that can run through the service's HTTP API when the service holds the store. */
const SERVING = new Set(['serve', 'api']);

export { flag };

/** The service's own address from HOST/PORT (a wildcard listen address is reached on loopback). */
export function defaultServiceUrl(cfg: Config, scheme: 'http' | 'ws' = 'http'): string {
  const host =
    cfg.env.HOST === '0.0.0.0' || cfg.env.HOST === ''
      ? '127.0.0.1'
      : cfg.env.HOST === '::'
        ? '::1'
        : cfg.env.HOST;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${cfg.env.PORT}`;
}

/** `--url`, else http://$HOST:$PORT. */
export function serviceUrl(args: string[], cfg: Config): string {
  return (flag(args, 'url') ?? defaultServiceUrl(cfg)).replace(/\/+$/, '');
}

/** The service could not be reached at all (nothing listens, DNS, timeout). */
export class ServiceUnreachableError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(
      `Could not reach the service at ${url} (${reason}). Is it running there? Give its address with --url, or set HOST and PORT as the service has them.`,
    );
    this.name = 'ServiceUnreachableError';
  }
}

/** An error answer of the service, or an AppError of the same action run on the store. */
export class ActionError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

/** One JSON call to the service; non-2xx answers throw ActionError, network failures ServiceUnreachableError. */
export async function callService(
  cfg: Config,
  url: string,
  method: HttpRequest['method'],
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<unknown> {
  let res;
  try {
    res = await httpCall(
      {
        method,
        url: `${url}${path}`,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: 10_000,
      },
      createRedactor(cfg.secrets),
    );
  } catch (err) {
    if (err instanceof TransportError) throw new ServiceUnreachableError(url, err.message);
    throw err;
  }
  if (res.status >= 300) {
    const e = (res.json ?? {}) as { error?: string; message?: string };
    throw new ActionError(
      res.status,
      e.error ?? 'http_error',
      e.message ?? `HTTP ${res.status} from ${url}${path}`,
    );
  }
  return res.json ?? null;
}

export type Target = { kind: 'store'; db: Db } | { kind: 'service'; url: string; holder: LockHolder | null };

/**
 * `--url`: the service there. PostgreSQL: the store itself (many openers by design). PGlite: the
 * store under DATA_DIR's lock when no process holds it; the running service's API when `serve` or
 * `api` holds it; otherwise DataDirLockedError.
 */
export async function reach(args: string[], cfg: Config, command: string): Promise<Target> {
  if (flag(args, 'url') !== undefined) return { kind: 'service', url: serviceUrl(args, cfg), holder: null };
  try {
    const db = await openStore({
      databaseUrl: cfg.env.DATABASE_URL,
      dataDir: cfg.env.DATA_DIR,
      holder: `cli ${command}`,
    });
    try {
      await migrate(db);
    } catch (err) {
      await db.close();
      throw err;
    }
    return { kind: 'store', db };
  } catch (err) {
    if (err instanceof DataDirLockedError && SERVING.has(err.holder.command)) {
      return { kind: 'service', url: serviceUrl(args, cfg), holder: err.holder };
    }
    throw err;
  }
}

/**
 * Runs an operator action (the admin API's): on the store when the CLI may open it, else through
 * the service with COMMS_ADMIN_TOKEN. Prints the answer as JSON; returns the exit code
 * (0 done, 1 refused, 2 usage or bad input).
 */
export async function runOperatorAction(
  args: string[],
  cfg: Config,
  a: {
    command: string;
    method: HttpRequest['method'];
    path: string;
    body?: unknown;
    store: (db: Db) => Promise<unknown>;
    /** Printed when the action answers nothing (204). */
    done?: unknown;
  },
): Promise<number> {
  const target = await reach(args, cfg, a.command);
  let answer: unknown;
  try {
    if (target.kind === 'store') {
      try {
        answer = await a.store(target.db);
      } finally {
        await target.db.close();
      }
    } else {
      const token = cfg.env.COMMS_ADMIN_TOKEN;
      const held = target.holder ? `The service (pid ${target.holder.pid}) holds ${cfg.env.DATA_DIR}. ` : '';
      if (!token) {
        console.error(
          `${held}"${a.command}" runs through its API at ${target.url}, which needs COMMS_ADMIN_TOKEN (the operator token the service runs with).`,
        );
        return 2;
      }
      if (held) console.error(`${held}Running "${a.command}" through its API at ${target.url}.`);
      answer = await callService(cfg, target.url, a.method, a.path, token, a.body);
    }
  } catch (err) {
    const e = err instanceof AppError ? new ActionError(err.status, err.code, err.message) : err;
    if (!(e instanceof ActionError)) throw err;
    console.error(`${e.code}: ${e.message}`);
    return e.status === 400 ? 2 : 1;
  }
  console.log(JSON.stringify(answer ?? a.done ?? { ok: true }, null, 2));
  return 0;
}

/**
 * A read command while the service holds the store: through the service's tenant API with the
 * caller's `--token` (owner or service token), never by opening the store a second time.
 */
export function readThroughService(
  args: string[],
  cfg: Config,
  target: Extract<Target, { kind: 'service' }>,
  command: string,
): string | null {
  const token = flag(args, 'token');
  if (token) return token;
  const held = target.holder ? `The service (pid ${target.holder.pid}) holds ${cfg.env.DATA_DIR}. ` : '';
  console.error(
    `${held}Pass --token <owner or service token of the tenant> to run "${command}" through its API at ${target.url}, or stop the service.`,
  );
  return null;
}
