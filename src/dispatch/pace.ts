import type { AdapterId } from '../core/channels.ts';
import { ADAPTER_IDS } from '../core/channels.ts';
import { commaList } from '../config/schema.ts';
import type { Db } from '../store/driver.ts';
import type { ClaimedRow } from '../store/sql/claim.ts';
import { holdOff, returnTokens, takeTokens, type PaceGrant } from '../store/sql/pace.ts';

/** Parses COMMS_PACE ("telegram_bot=30,whatsapp_cloud=80") into sends per second per adapter. */
export function parsePace(spec: string): Map<AdapterId, number> {
  const out = new Map<AdapterId, number>();
  for (const part of commaList(spec)) {
    const [id, rate] = part.split('=').map((s) => s.trim());
    if (!(ADAPTER_IDS as readonly string[]).includes(id!)) {
      throw new Error(`COMMS_PACE: unknown adapter id "${id}" (allowed: ${ADAPTER_IDS.join(', ')})`);
    }
    const n = Number(rate);
    if (!(n > 0)) throw new Error(`COMMS_PACE: the rate of ${id} must be above 0`);
    out.set(id as AdapterId, n);
  }
  return out;
}

/**
 * The send rate of one adapter, shared through the database by every dispatcher process: a token
 * bucket holding at most one second's worth of sends (so a backlog drains at the rate, with no
 * burst above it).
 */
export class Pace {
  readonly burst: number;

  constructor(
    private readonly db: Db,
    readonly adapter: AdapterId,
    readonly rate: number,
  ) {
    this.burst = Math.max(1, rate);
  }

  take(want: number): Promise<PaceGrant> {
    return takeTokens(this.db, this.adapter, want, this.rate, this.burst);
  }

  giveBack(n: number): Promise<void> {
    return returnTokens(this.db, this.adapter, n, this.burst);
  }

  holdOff(waitMs: number): Promise<void> {
    return holdOff(this.db, this.adapter, waitMs, this.rate);
  }
}

/**
 * Claims up to `want` rows through `claim`, no more than the pace grants now (all of them when the
 * lane is unpaced); tokens for rows that were not there go back. A `waitMs` above 0 means the pace
 * had no token: the rows are due, only the pace holds them back that long.
 */
export async function claimPaced(
  pace: Pace | null | undefined,
  want: number,
  claim: (limit: number) => Promise<ClaimedRow[]>,
): Promise<{ rows: ClaimedRow[]; waitMs: number }> {
  if (!pace) return { rows: await claim(want), waitMs: 0 };
  const g = await pace.take(want);
  if (g.granted === 0) return { rows: [], waitMs: Math.max(g.waitMs, 1) };
  const rows = await claim(g.granted);
  if (rows.length < g.granted) await pace.giveBack(g.granted - rows.length);
  return { rows, waitMs: 0 };
}
