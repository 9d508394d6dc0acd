import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { AppError } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import { FirebaseTokenVerifier } from '../providers/firebase-verify.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { TwilioVerifyClient } from '../providers/twilio-verify.ts';
import type { Db } from '../store/driver.ts';
import type { Principal } from '../store/tokens.ts';
import { StartAdmission } from './admission.ts';
import { checkOtp, type CheckInput } from './check.ts';
import type { OtpContext } from './context.ts';
import { withSlots } from './db-slots.ts';
import { providerBudgetMs } from './deadline.ts';
import { FinishBatcher } from './finish-batch.ts';
import { firebaseSignIn } from './firebase-sign-in.ts';
import { logout } from './logout.ts';
import { ProviderMimic } from './mimic.ts';
import type { Session } from './sessions.ts';
import { shedStart, startOtp, type RequestInfo, type StartInput, type Started } from './start.ts';
import { TurnstileVerifier } from './turnstile.ts';

export type { CheckInput, RequestInfo, StartInput };

export interface OtpServiceDeps {
  db: Db;
  config: Config;
  redactor: Redactor;
  logger: Logger;
  registry: ProviderRegistry;
}

export interface OtpServiceOptions {
  /** The clock of every OTP time: verification lifetime, limit windows, session expiry (tests fake it). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

// Database slots the OTP service uses at once (each a short transaction or two): the rest of a
// PostgreSQL pool (10 connections by default) always stays free for LAN work, however many
// sign-ins arrive. PGlite has one connection: one slot, so LAN work queues behind at most one.
const DB_SLOTS = { postgres: 2, pglite: 1 } as const;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Owner sign-in: OTP start/check through Twilio Verify (or QA test numbers), Firebase ID tokens,
 * sessions. Online only: nothing here is ever queued; every refusal is immediate and says why.
 * The steps live in start.ts, check.ts, firebase-sign-in.ts and logout.ts; this holds what they share.
 */
export class OtpService {
  readonly worker = `otp:${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly ctx: OtpContext;

  constructor(d: OtpServiceDeps, o: OtpServiceOptions = {}) {
    const now = o.now ?? Date.now;
    const env = d.config.env;
    const db = withSlots(d.db, DB_SLOTS[d.db.kind]);
    // Starts one process works on at once (OTP_MAX_STARTS_IN_FLIGHT, default 8; see admission.ts). A
    // healthy Twilio answers in well under a second, so that is still tens of sign-ins a second per
    // process, while a hanging provider holds at most this many requests, sockets and rows.
    const admission: StartAdmission = new StartAdmission(env.OTP_MAX_STARTS_IN_FLIGHT, (n) =>
      d.logger.warn({ refused: n, max: admission.max }, 'otp starts refused: too many in flight'),
    );
    this.ctx = {
      config: d.config,
      redactor: d.redactor,
      logger: d.logger,
      registry: d.registry,
      db,
      now,
      sleep: o.sleep ?? realSleep,
      worker: this.worker,
      turnstile: new TurnstileVerifier(d.config, d.redactor),
      startMimic: new ProviderMimic(now),
      checkMimic: new ProviderMimic(now),
      // The clients stop well before OTP_TIMEOUT_MS so the refusal is written and sent within it.
      twilio: TwilioVerifyClient.fromConfig(d.config, d.redactor, providerBudgetMs(env.OTP_TIMEOUT_MS)),
      firebase: env.NEXT_PUBLIC_FIREBASE_PROJECT_ID
        ? new FirebaseTokenVerifier({
            projectId: env.NEXT_PUBLIC_FIREBASE_PROJECT_ID,
            certsUrl: env.FIREBASE_CERTS_URL,
            redactor: d.redactor,
            timeoutMs: providerBudgetMs(env.OTP_TIMEOUT_MS),
            now,
          })
        : null,
      finisher: new FinishBatcher(db, this.worker),
      admission,
    };
  }

  start(input: StartInput, req: RequestInfo): Promise<Started> {
    return startOtp(this.ctx, input, req);
  }

  /** The otp_busy refusal when the cap is already reached (see StartAdmission.refuseEarly), else null. */
  shedStart(): AppError | null {
    return shedStart(this.ctx);
  }

  check(input: CheckInput, req: Pick<RequestInfo, 'elapsedMs'> = {}): Promise<Session> {
    return checkOtp(this.ctx, input, req);
  }

  firebaseSignIn(input: { idToken: string; tenant: string }): Promise<Session> {
    return firebaseSignIn(this.ctx, input);
  }

  /** Revokes the calling session. Long-lived tokens (operator, bootstrap, service) are not sessions. */
  logout(p: Principal, actor: string): Promise<void> {
    return logout(this.ctx, p, actor);
  }
}
