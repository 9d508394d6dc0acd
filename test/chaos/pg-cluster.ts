import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/child.ts';

const run = promisify(execFile);
const BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/**
 * A private PostgreSQL cluster for fault tests: its own data directory under /tmp and its own port,
 * so the suite can restart it (`pg_ctl restart -m fast`, the same operation `pg_ctlcluster <ver>
 * <name> restart` performs on a packaged cluster) without touching the PostgreSQL that other tests
 * share. fsync stays on: an acknowledged commit must survive the restart for real.
 *
 * initdb and the server refuse to run as root, so they run as the `postgres` OS user when the
 * test runs as root (runuser), in a directory that user owns.
 */
export class PgCluster {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string[],
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async available(): Promise<boolean> {
    try {
      await run(`${BIN}/pg_ctl`, ['--version']);
      return true;
    } catch {
      return false;
    }
  }

  static async create(): Promise<PgCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'comms-chaos-pg-'));
    const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
    if (asUser.length) {
      await run('chown', ['postgres:postgres', dir]);
      await chmod(dir, 0o700);
    }
    const port = await freePort();
    const c = new PgCluster(dir, port, asUser);
    await c.sh(`${BIN}/initdb`, [
      '-D',
      join(dir, 'data'),
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await c.start();
    return c;
  }

  private async sh(cmd: string, args: string[]): Promise<string> {
    const [file, ...rest] = this.asUser.length ? [...this.asUser, cmd, ...args] : [cmd, ...args];
    const { stdout } = await run(file!, rest, { timeout: 120_000 });
    return stdout;
  }

  private options(): string {
    // fsync on (the default) is the point; a small pool of connections is plenty for 5 processes.
    return `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=on -c max_connections=200 -c shared_buffers=64MB`;
  }

  async start(): Promise<void> {
    await this.sh(`${BIN}/pg_ctl`, [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-o',
      this.options(),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  /** `pg_ctl restart -m fast`: open transactions are rolled back, committed ones stay. */
  async restart(): Promise<void> {
    await this.sh(`${BIN}/pg_ctl`, [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-o',
      this.options(),
      '-m',
      'fast',
      '-w',
      '-t',
      '60',
      'restart',
    ]);
  }

  async destroy(): Promise<void> {
    await this.sh(`${BIN}/pg_ctl`, ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(
      () => undefined,
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}
