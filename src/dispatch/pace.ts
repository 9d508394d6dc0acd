import type { AdapterId } from '../core/channels.ts';
import { ADAPTER_IDS } from '../core/channels.ts';
import { commaList } from '../config/schema.ts';
import type { Db } from '../store/driver.ts';
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
