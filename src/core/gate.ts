import type { Channel } from './channels.ts';

export type Runtime = 'qa' | 'development' | 'production';

export interface GateInput {
  channel: Channel;
  runtime: Runtime;
  externalSends: 'enabled' | 'disabled';
  /** Every env the provider needs is set. */
  providerConfigured: boolean;
  /** Env names still missing for the provider (for the reason text). */
  missingEnv: readonly string[];
  /** The tenant opted in to this channel. */
  tenantOptIn: boolean;
  /** The operator pinned this adapter to dry-run (COMMS_DRY_RUN_ADAPTERS). */
  pinnedDryRun: boolean;
  /** The channel is served on the LAN (in_app): no online provider involved. */
  lanSafe: boolean;
}

export type GateDecision =
  | { kind: 'allow_live'; reason: string }
  | { kind: 'dry_run'; reason: string; missing: string[] }
  | { kind: 'queue'; reason: string; missing: string[] }
  | { kind: 'block'; reason: string; missing: string[] };

/**
 * The send gate. Pure: the same inputs always give the same decision.
 *
 * - OTP is never queued: anything missing blocks it at once (OTP online only).
 * - Missing tenant opt-in queues the row: a person must act, and the row waits visibly.
 * - The LAN channel is always delivered locally once opted in.
 * - A live send needs every condition; any missing one turns the send into a dry-run, except that
 *   in production with external sends enabled a missing provider env queues the row, because there
 *   the operator clearly wants real sends and a rendered request would be a silent drop.
 */
export function decideSend(input: GateInput): GateDecision {
  const missing: string[] = [];
  if (!input.tenantOptIn) missing.push(`tenant opt-in for ${input.channel}`);
  if (!input.lanSafe && !input.providerConfigured) {
    missing.push(`provider env ${input.missingEnv.join(', ') || '(unknown)'}`);
  }

  if (input.channel === 'otp_sms') {
    if (!input.providerConfigured) {
      return {
        kind: 'block',
        reason: `OTP provider env is not configured (missing ${missing.join(' and ')}); OTP is never queued`,
        missing,
      };
    }
    if (!input.tenantOptIn) {
      return { kind: 'block', reason: 'missing tenant opt-in for otp_sms; OTP is never queued', missing };
    }
  }

  if (!input.tenantOptIn) {
    return { kind: 'queue', reason: `waiting for ${missing.join(' and ')}`, missing };
  }

  if (input.lanSafe) return { kind: 'allow_live', reason: 'LAN hub delivers locally' };

  const liveWanted = input.runtime === 'production' && input.externalSends === 'enabled';
  if (liveWanted && !input.providerConfigured && !input.pinnedDryRun) {
    return { kind: 'queue', reason: `waiting for ${missing.join(' and ')}`, missing };
  }

  const notLive: string[] = [...missing];
  if (input.runtime !== 'production') notLive.push(`runtime is ${input.runtime}, not production`);
  if (input.externalSends !== 'enabled') notLive.push('COMMS_EXTERNAL_SENDS is disabled');
  if (input.pinnedDryRun) notLive.push('adapter pinned to dry-run by COMMS_DRY_RUN_ADAPTERS');
  if (notLive.length === 0) return { kind: 'allow_live', reason: 'every live-send condition holds' };
  return { kind: 'dry_run', reason: `dry-run: ${notLive.join('; ')}`, missing: notLive };
}
