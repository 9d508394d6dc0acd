import { AppError } from '../core/errors.ts';
import { maskTarget } from '../core/redact.ts';
import { getTenant } from '../store/tenants.ts';
import { ACTOR, type OtpContext } from './context.ts';
import { findOwnerByPhone } from './owners.ts';
import { issueSession, type Session } from './sessions.ts';

/** Exchanges a Firebase phone sign-in ID token for an owner session. */
export async function firebaseSignIn(
  ctx: OtpContext,
  input: { idToken: string; tenant: string },
): Promise<Session> {
  const env = ctx.config.env;
  if (env.OTP_PROVIDER !== 'firebase' || !ctx.firebase) {
    throw new AppError(
      'otp_unavailable',
      'Firebase sign-in is not configured (OTP_PROVIDER=firebase and NEXT_PUBLIC_FIREBASE_PROJECT_ID).',
      { details: { reason: 'firebase_not_configured' } },
    );
  }
  const tenant = await getTenant(ctx.db, input.tenant);
  if (!tenant) throw new AppError('not_found', `No tenant "${input.tenant.slice(0, 63)}".`);
  const id = await ctx.firebase.verify(input.idToken);
  // A stolen ID token stays valid for an hour and its refreshes keep auth_time: only a fresh
  // phone sign-in may open a session.
  if (ctx.now() - id.authTime.getTime() > env.OTP_TTL_S * 1000) {
    throw new AppError(
      'firebase_token_expired',
      `The phone sign-in behind this token is older than ${Math.round(env.OTP_TTL_S / 60)} min (auth_time); sign in with the phone again.`,
    );
  }
  const session = await ctx.db.tx(
    async (q) => {
      const owner = await findOwnerByPhone(q, tenant.id, id.phoneNumber);
      if (!owner) return null;
      return issueSession(q, {
        tenantId: tenant.id,
        ownerId: owner.owner_id,
        method: 'firebase',
        nowMs: ctx.now(),
        ttlS: env.SESSION_TTL_S,
        actor: ACTOR,
        detail: { firebaseUid: id.uid },
      });
    },
    { tenantId: tenant.id },
  );
  if (!session) throw new AppError('forbidden', 'This phone number is not an owner of the tenant.');
  ctx.logger.info({ tenant: tenant.id, phone: maskTarget(id.phoneNumber) }, 'owner signed in with Firebase');
  return session;
}
