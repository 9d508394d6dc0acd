import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import type { FirebaseTokenVerifier } from '../providers/firebase-verify.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { TwilioVerifyClient } from '../providers/twilio-verify.ts';
import type { StartAdmission } from './admission.ts';
import type { SlottedDb } from './db-slots.ts';
import type { FinishBatcher } from './finish-batch.ts';
import type { ProviderMimic } from './mimic.ts';
import type { TurnstileVerifier } from './turnstile.ts';

/** The actor of every audit event the OTP flow writes itself. */
export const ACTOR = 'system:otp';

/** What the start, check and sign-in steps share; OtpService builds it once. */
export interface OtpContext {
  readonly config: Config;
  readonly redactor: Redactor;
  readonly logger: Logger;
  readonly registry: ProviderRegistry;
  /** The OTP service's share of the pool (see db-slots.ts). */
  readonly db: SlottedDb;
  /** The clock of every OTP time: verification lifetime, limit windows, session expiry (tests fake it). */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Lease owner of the outbox rows this process sends itself. */
  readonly worker: string;
  readonly turnstile: TurnstileVerifier;
  readonly startMimic: ProviderMimic;
  readonly checkMimic: ProviderMimic;
  readonly twilio: TwilioVerifyClient | null;
  readonly firebase: FirebaseTokenVerifier | null;
  readonly finisher: FinishBatcher;
  readonly admission: StartAdmission;
}

/** QA test numbers, only ever honoured in the QA runtime (config refuses them elsewhere too). */
export function testNumbers(ctx: OtpContext): ReadonlyMap<string, string> {
  return ctx.config.runtime === 'qa' ? ctx.config.otpTestNumbers : new Map();
}
