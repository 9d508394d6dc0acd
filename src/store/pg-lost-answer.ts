import type pg from 'pg';

// How long a transaction whose COMMIT answer was lost waits for the server to come back and say
// whether it committed (a PostgreSQL restart takes about a second; the request waits meanwhile).
const COMMIT_RESOLVE_MS = 10_000;
const ASK_EVERY_MS = 250;

/**
 * Settles what became of a statement or a COMMIT whose answer was lost with the connection, by
 * asking the server again once it is back.
 */
export class LostAnswer {
  constructor(
    private readonly pool: pg.Pool,
    /** True once the driver is closed: nobody waits for an answer any more. */
    private readonly closed: () => boolean,
  ) {}

  /** Waits (up to COMMIT_RESOLVE_MS) until a server process has exited: its transaction is then over. */
  async backendGone(pid: number): Promise<boolean> {
    const gone = await this.askUntilResolved(async () => {
      const r = await this.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      return r.rowCount === 0 ? true : undefined;
    });
    return gone ?? false;
  }

  /** Outcome of a transaction whose COMMIT lost its answer, asked for up to COMMIT_RESOLVE_MS. */
  async commitOutcome(xid: string): Promise<'committed' | 'aborted' | 'unknown'> {
    const outcome = await this.askUntilResolved(async () => {
      const r = await this.pool.query<{ s: string | null }>('SELECT txid_status($1::bigint) AS s', [xid]);
      const s = r.rows[0]?.s;
      if (s === 'committed' || s === 'aborted') return s;
      return s === 'in progress' ? undefined : 'unknown';
    });
    return outcome ?? 'unknown';
  }

  /**
   * Asks `probe` every 250 ms, for up to COMMIT_RESOLVE_MS, until it answers (not undefined). A
   * failing probe means the server is still away. Undefined if no answer came in time.
   */
  private async askUntilResolved<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
    const end = Date.now() + COMMIT_RESOLVE_MS;
    while (!this.closed()) {
      try {
        const answer = await probe();
        if (answer !== undefined) return answer;
      } catch {
        // Still away; ask again.
      }
      if (Date.now() + ASK_EVERY_MS > end) break;
      await new Promise((r) => setTimeout(r, ASK_EVERY_MS));
    }
    return undefined;
  }
}
