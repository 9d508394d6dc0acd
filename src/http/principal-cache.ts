import type { Db } from '../store/driver.ts';
import { AUTH_CHANGED, findPrincipalByHash, hashToken, type Principal } from '../store/tokens.ts';

export interface PrincipalCacheOptions {
  /** Longest a cached principal is trusted without a lookup; bounds staleness if a NOTIFY is missed. */
  ttlMs?: number;
  maxEntries?: number;
}

/**
 * Bearer token → principal, cached briefly so an authenticated request needs no lookup round trip.
 * Every change to a token or tenant row clears the cache: in this process at once (the writers
 * publish after COMMIT), in other processes through the `auth_changed` NOTIFY a trigger sends. If
 * the LISTEN connection is down, entries still expire after `ttlMs`. Unknown tokens are never
 * cached, so a token minted a moment ago works on every process at once.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, { p: Principal; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private generation = 0;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly db: Db,
    opts: PrincipalCacheOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 2_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Caching is on only while change notifications are subscribed. */
  async start(): Promise<void> {
    if (!this.unlisten) this.unlisten = await this.db.listen(AUTH_CHANGED, () => this.clear());
  }

  async stop(): Promise<void> {
    const off = this.unlisten;
    this.unlisten = null;
    this.clear();
    await off?.();
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  async find(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const now = Date.now();
    const hit = this.entries.get(hash);
    if (hit) {
      if (hit.until > now && (!hit.p.expiresAt || new Date(hit.p.expiresAt).getTime() > now)) return hit.p;
      this.entries.delete(hash);
    }
    const gen = this.generation;
    const p = await findPrincipalByHash(this.db, hash);
    // A change announced while the lookup ran may not be in its answer: do not keep it.
    if (p && this.unlisten && gen === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(hash, { p, until: now + this.ttlMs });
    }
    return p;
  }
}
