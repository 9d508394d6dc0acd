import type { Db } from '../store/driver.ts';
import type { ConnectionRegistry } from './hub-registry.ts';
import { liveDeviceTokens, pruneInboxes, touchSeen } from './inbox.ts';
import { CLOSE } from './protocol.ts';

/** Pruning reads the whole inbox table (no index on age; one would cost every insert), so it runs
 * rarely, in batches; 5,000 x 20 per 10 minutes is far above what a busy restaurant adds. */
export const PRUNE_MS = 600_000;
const PRUNE_BATCH = 5_000;
const PRUNE_ROUNDS = 20;

/** Pings every open socket and records the devices as seen; a device that missed two pongs is cut. */
export async function heartbeat(db: Db, conns: ConnectionRegistry): Promise<void> {
  const seen: { tenantId: string; deviceId: string }[] = [];
  for (const c of conns.all()) {
    if (c.closed) continue;
    // Two pings without a pong: the device is gone (power cut, cable pulled).
    if (c.missedPongs >= 2) {
      c.closed = true;
      c.ws.terminate();
      continue;
    }
    if (c.ws.readyState !== c.ws.OPEN) continue;
    c.missedPongs++;
    c.ws.ping();
    seen.push({ tenantId: c.tenantId, deviceId: c.deviceId });
  }
  await touchSeen(db, seen);
}

/** Closes sockets whose token is no longer live (a revocation whose NOTIFY was missed). */
export async function checkTokens(db: Db, conns: ConnectionRegistry): Promise<void> {
  const open = [...conns.all()].filter((c) => !c.closed);
  if (open.length === 0) return;
  const live = await liveDeviceTokens(db, [...new Set(open.map((c) => c.ident.tokenHash))]);
  for (const c of open) if (!live.has(c.ident.tokenHash)) c.close(CLOSE.revoked, 'token revoked');
}

/** Deletes acked (or dropped) inbox entries older than `retentionH`, a bounded batch at a time. */
export async function pruneAcked(db: Db, retentionH: number): Promise<number> {
  let total = 0;
  for (let round = 0; round < PRUNE_ROUNDS; round++) {
    const n = await pruneInboxes(db, retentionH, PRUNE_BATCH);
    total += n;
    if (n < PRUNE_BATCH) break;
  }
  return total;
}
