import { AppError } from '../core/errors.ts';
import type { Principal } from '../store/tokens.ts';
import type { OtpContext } from './context.ts';
import { revokeSession } from './sessions.ts';

/** Revokes the calling session. Long-lived tokens (operator, bootstrap, service) are not sessions. */
export async function logout(ctx: OtpContext, p: Principal, actor: string): Promise<void> {
  if (p.expiresAt === null) {
    throw new AppError(
      'conflict',
      'This is a long-lived owner token, not a sign-in session; logout revokes only sessions.',
    );
  }
  await ctx.db.tx((q) => revokeSession(q, { tenantId: p.tenant.id, tokenHash: p.tokenHash, actor }), {
    tenantId: p.tenant.id,
  });
}
