import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The one constant-time comparison for secrets, signatures and tokens. Both sides are hashed first
 * so inputs of different lengths take the same time and never throw.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
