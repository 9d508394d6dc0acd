import { createWriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import { BackupError, restoreEmbeddedStore } from '../store/backup.ts';
import { flag, type CliCommand } from './command.ts';

/** GET with the operator token; resolves with the response once its headers arrive. */
function get(url: string, token: string): Promise<IncomingMessage> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` } }, resolvePromise);
    req.setTimeout(120_000, () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end();
  });
}

/**
 * `mupza-comms backup --out FILE [--url http://127.0.0.1:PORT]`: asks the running service (which
 * holds the embedded store) for a snapshot with the operator token COMMS_ADMIN_TOKEN, and writes
 * it gzipped to FILE only once it is complete (FILE.partial, then renamed).
 */
export const backupCommand: CliCommand = async (args, config) => {
  const out = flag(args, 'out');
  if (!out) {
    console.error(
      'usage: mupza-comms backup --out FILE [--url http://127.0.0.1:PORT]   (COMMS_ADMIN_TOKEN in the environment)',
    );
    return 2;
  }
  const cfg = config();
  const token = cfg.env.COMMS_ADMIN_TOKEN;
  if (!token) {
    console.error(
      'COMMS_ADMIN_TOKEN is not set: the backup is asked of the running service with the operator token.',
    );
    return 2;
  }
  const base = (flag(args, 'url') ?? `http://127.0.0.1:${cfg.env.PORT}`).replace(/\/+$/, '');
  let res: IncomingMessage;
  try {
    res = await get(`${base}/api/v1/admin/backup`, token);
  } catch {
    console.error(
      `No service answers at ${base}: the backup is taken by the running service (start it, or pass --url).`,
    );
    return 1;
  }
  if (res.statusCode !== 200) {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    let body: { error?: string; message?: string } | null = null;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: string; message?: string };
    } catch {
      body = null;
    }
    console.error(
      `${res.statusCode} ${body?.error ?? ''}: ${body?.message ?? 'the service refused the backup'}`,
    );
    return 1;
  }
  const target = resolve(out);
  const partial = `${target}.partial`;
  try {
    await pipeline(res, createGzip(), createWriteStream(partial, { mode: 0o600 }));
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    console.error(`The backup was not written: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  console.log(`Backup written to ${target}`);
  return 0;
};

/**
 * `mupza-comms restore --in FILE [--data-dir DIR]`: puts a backup into an empty data directory
 * (DATA_DIR by default); a directory that holds anything is refused, never overwritten.
 */
export const restoreCommand: CliCommand = async (args, config) => {
  const input = flag(args, 'in');
  if (!input) {
    console.error(
      'usage: mupza-comms restore --in FILE [--data-dir DIR]   (DIR: DATA_DIR by default; must be empty)',
    );
    return 2;
  }
  const cfg = config();
  const dataDir = resolve(flag(args, 'data-dir') ?? cfg.env.DATA_DIR);
  let tar: Buffer;
  try {
    tar = gunzipSync(await readFile(input));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    console.error(
      code === 'ENOENT'
        ? `No file ${input}.`
        : `${input} is not a backup made by mupza-comms backup (not gzip).`,
    );
    return 2;
  }
  try {
    const r = await restoreEmbeddedStore(new Blob([new Uint8Array(tar)]), dataDir);
    console.log(
      `Restored into ${dataDir}: ${r.tenants} tenants, ${r.outbox} outbox rows, ${r.migrations} migrations applied (newer ones run at the next start).`,
    );
    return 0;
  } catch (err) {
    if (err instanceof BackupError) {
      console.error(err.message);
      return err.code === 'target_not_empty' ? 2 : 1;
    }
    throw err;
  }
};
