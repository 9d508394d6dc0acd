import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { AppError } from '../core/errors.ts';
import { maskTarget, type Redactor } from '../core/redact.ts';
import { safeEqual } from '../core/secret-compare.ts';
import { gateFor } from '../outbox/gate-inputs.ts';
import { ProviderError, type Classified } from '../providers/classify.ts';
import { FirebaseTokenVerifier } from '../providers/firebase-verify.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { TwilioVerifyClient } from '../providers/twilio-verify.ts';
import type { Db, Queryable } from '../store/driver.ts';
import type { OutboxRow, TenantRow } from '../store/rows.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { getTenant } from '../store/tenants.ts';
import type { Principal } from '../store/tokens.ts';
import { StartAdmission } from './admission.ts';
import { clientIpKey } from './client-key.ts';
import { blockedError, findBlock, isRangeBlock, rememberBlock } from './destination-blocks.ts';
import { withSlots, type SlottedDb } from './db-slots.ts';
import { FinishBatcher } from './finish-batch.ts';
import { consumeStart, startRules } from './limits.ts';
import { ProviderMimic, type ProviderFailure } from './mimic.ts';
import { finishOtpRow, insertBlockedOtpRow, insertClaimedOtpRow, type OtpRowInput } from './otp-row.ts';
import { findOwnerByPhone } from './owners.ts';
import { TurnstileVerifier } from './turnstile.ts';
import { allowedDestination, parseOtpPhone, type OtpPhone } from './phone.ts';
import { issueSession, revokeSession, type Session } from './sessions.ts';
import {
  getVerification,
  recordVerification,
  reserveCheck,
  settleVerification,
  type VerificationRow,
} from './verifications.ts';

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

export interface StartInput {
  phone: string;
  tenant: string;
  /** The Cloudflare Turnstile token from the sign-in page (required when Turnstile is configured). */
  turnstileToken?: string | undefined;
}
export interface CheckInput {
  verificationId: string;
  code: string;
  tenant?: string | undefined;
  phone?: string | undefined;
}
export interface RequestInfo {
  ip: string;
  /** The hostname the request was sent to (no port): Turnstile's expected hostname when BACKEND_PUBLIC_URL is unset. */
  host?: string | null;
  /** How long ago the request arrived (ms): the deadline counts from then, not from the handler. */
  elapsedMs?: number;
}

export const DEFAULT_TENANT = 'demo';

const ACTOR = 'system:otp';
// Database slots the OTP service uses at once (each a short transaction or two): the rest of a
// PostgreSQL pool (10 connections by default) always stays free for LAN work, however many
// sign-ins arrive. PGlite has one connection: one slot, so LAN work queues behind at most one.
const DB_SLOTS = { postgres: 2, pglite: 1 } as const;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Owner sign-in: OTP start/check through Twilio Verify (or QA test numbers), Firebase ID tokens,
 * sessions. Online only: nothing here is ever queued; every refusal is immediate and says why.
 */
export class OtpService {
  readonly worker = `otp:${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly turnstile: TurnstileVerifier;
  private readonly startMimic: ProviderMimic;
  private readonly checkMimic: ProviderMimic;
  private readonly twilio: TwilioVerifyClient | null;
  private readonly firebase: FirebaseTokenVerifier | null;
  private readonly db: SlottedDb;
  private readonly finisher: FinishBatcher;
  private readonly admission: StartAdmission;

  constructor(
    private readonly d: OtpServiceDeps,
    o: OtpServiceOptions = {},
  ) {
    this.now = o.now ?? Date.now;
    this.db = withSlots(d.db, DB_SLOTS[d.db.kind]);
    this.finisher = new FinishBatcher(this.db, this.worker);
    // Starts one process works on at once (OTP_MAX_STARTS_IN_FLIGHT, default 8; see admission.ts). A
    // healthy Twilio answers in well under a second, so that is still tens of sign-ins a second per
    // process, while a hanging provider holds at most this many requests, sockets and rows.
    this.admission = new StartAdmission(d.config.env.OTP_MAX_STARTS_IN_FLIGHT, (n) =>
      d.logger.warn({ refused: n, max: this.admission.max }, 'otp starts refused: too many in flight'),
    );
    this.sleep = o.sleep ?? realSleep;
    this.turnstile = new TurnstileVerifier(d.config, d.redactor);
    this.startMimic = new ProviderMimic(this.now);
    this.checkMimic = new ProviderMimic(this.now);
    const env = d.config.env;
    // The client stops well before OTP_TIMEOUT_MS so the refusal is written and sent within it.
    this.twilio = TwilioVerifyClient.fromConfig(d.config, d.redactor, providerBudgetMs(env.OTP_TIMEOUT_MS));
    this.firebase = env.NEXT_PUBLIC_FIREBASE_PROJECT_ID
      ? new FirebaseTokenVerifier({
          projectId: env.NEXT_PUBLIC_FIREBASE_PROJECT_ID,
          certsUrl: env.FIREBASE_CERTS_URL,
          redactor: d.redactor,
          timeoutMs: providerBudgetMs(env.OTP_TIMEOUT_MS),
          now: this.now,
        })
      : null;
  }

  private get env() {
    return this.d.config.env;
  }

  /** QA test numbers, only ever honoured in the QA runtime (config refuses them elsewhere too). */
  private get testNumbers(): ReadonlyMap<string, string> {
    return this.d.config.runtime === 'qa' ? this.d.config.otpTestNumbers : new Map();
  }

  private async tenant(id: string): Promise<TenantRow> {
    const t = await getTenant(this.db, id);
    if (!t) throw new AppError('not_found', `No tenant "${id.slice(0, 63)}".`);
    return t;
  }

  // ---------------------------------------------------------------- start

  async start(input: StartInput, req: RequestInfo): Promise<{ verificationId: string; status: 'pending' }> {
    let t0 = performance.now() - (req.elapsedMs ?? 0);
    const release = this.admission.enter();
    if (!release) throw this.busyError();
    if (this.turnstile.enabled) {
      // The human check comes first: a refused start counts no limit, writes no row, calls no provider.
      try {
        await this.turnstile.verify({ token: input.turnstileToken, remoteIp: req.ip, requestHost: req.host ?? null }, turnstileTimeoutMs(this.env.OTP_TIMEOUT_MS));
      } catch (err) {
        release();
        throw err;
      }
      // It had its own deadline; the OTP deadline counts from here.
      t0 = performance.now();
    }
    // The place is held until the work settles, not until the answer: work still running after
    // its answer (see answerInTime) keeps counting, so a hanging provider cannot pile it up.
    const work = this.startWork(input, req, t0);
    void work.then(release, release);
    return this.answerInTime(t0, 'start', work);
  }

  /** The otp_busy refusal when the cap is already reached (see StartAdmission.refuseEarly), else null. */
  shedStart(): AppError | null {
    return this.admission.refuseEarly() ? this.busyError() : null;
  }

  private busyError(): AppError {
    return new AppError(
      'otp_unavailable',
      'OTP cannot be sent now: too many sign-ins are in progress on this server (otp_busy). Nothing was queued; try again shortly.',
      {
        details: { reason: 'otp_busy' },
        headers: { 'retry-after': String(Math.ceil(this.env.OTP_TIMEOUT_MS / 1000)) },
      },
    );
  }

  private async startWork(
    input: StartInput,
    req: RequestInfo,
    t0: number,
  ): Promise<{ verificationId: string; status: 'pending' }> {
    const phone = parseOtpPhone(input.phone, this.testNumbers);
    const ip = clientIpKey(req.ip);
    const testCode = this.testNumbers.get(phone.e164);
    const decoy = this.startMimic.next();
    // The verification id is the caller's handle; the outbox row (which owners can list) has its own.
    const vid = randomUUID();
    const outboxId = randomUUID();
    const nowMs = this.now();
    // Both transactions under one database slot: a request that got in finishes its writes before
    // the next begins, so under a flood the first requests reach the provider in time.
    const started = await this.db.holding(async (raw) => {
      // First the tenant, its allow-list and the limits: a short transaction, the only part that is
      // serialised (per key) across requests and processes. Refused here, nothing else is written.
      const first = await raw.tx(
        async (q) => {
          const tenant = await getTenant(q, input.tenant);
          if (!tenant) throw new AppError('not_found', `No tenant "${input.tenant}".`);
          if (!allowedDestination(phone.e164, tenant.otp_allowed_prefixes)) {
            throw new AppError(
              'destination_not_allowed',
              `OTP can be sent only to numbers starting with ${tenant.otp_allowed_prefixes.join(', ')} for this tenant.`,
            );
          }
          // A range Twilio is known to refuse: the same 403 for owners and strangers, nothing counted.
          const blocked = await findBlock(q, phone, nowMs);
          if (blocked !== null) return { kind: 'stopped' as const, error: blockedError(blocked) };
          const verdict = await consumeStart(
            q,
            startRules(this.env, { phone: phone.e164, ip, tenant: tenant.id, dialCode: phone.dialCode }),
            nowMs,
          );
          if (!verdict.ok) return { kind: 'stopped' as const, error: limitError(verdict) };
          return { kind: 'admitted' as const, tenant };
        },
        { tenantId: input.tenant },
      );
      if (first.kind === 'stopped') return first;
      const { tenant } = first;
      // Then, in one transaction, who the phone belongs to and the row that follows from it.
      const rowInput: OtpRowInput = {
        id: outboxId,
        tenantId: tenant.id,
        adapter: 'twilio_verify',
        phone: phone.e164,
        locale: tenant.locale,
        nowMs,
        ttlS: this.env.OTP_TTL_S,
        reason: '',
        actor: ACTOR,
      };
      const refusal = this.gateRefusal(tenant);
      const plan = await raw.tx(
        async (q) => {
          const owner = await findOwnerByPhone(q, tenant.id, phone.e164);
          if (testCode !== undefined && owner) {
            await this.writeTestNumberStart(q, rowInput, vid, owner.owner_id, ip);
            return { kind: 'test_number' as const };
          }
          if (refusal) {
            await insertBlockedOtpRow(q, { ...rowInput, reason: refusal });
            return { kind: 'refused' as const };
          }
          if (!owner) {
            await insertBlockedOtpRow(q, {
              ...rowInput,
              reason:
                'not an owner phone of this tenant: no SMS was sent (the caller got the same answer as an owner)',
            });
            if (decoy.outcome.ok)
              await recordVerification(
                q,
                this.newVerification(rowInput, {
                  vid,
                  ownerId: null,
                  method: 'decoy',
                  providerSid: null,
                  ip,
                }),
              );
            return { kind: 'decoy' as const };
          }
          const row = await insertClaimedOtpRow(q, {
            ...rowInput,
            reason: 'every live-send condition holds',
            mode: 'live',
            worker: this.worker,
            leaseMs: this.leaseMs(),
          });
          return { kind: 'twilio' as const, row, ownerId: owner.owner_id };
        },
        { tenantId: tenant.id },
      );
      return { kind: 'planned' as const, tenant, rowInput, refusal, plan };
    });
    if (started.kind === 'stopped') {
      // A limit, or a range the provider refuses: nothing was written, no provider call.
      this.d.logger.info(
        { tenant: input.tenant, phone: maskTarget(phone.e164), error: started.error.code, reason: started.error.details },
        'otp start refused before the owner lookup',
      );
      throw started.error;
    }
    const { tenant, rowInput, refusal, plan } = started;
    switch (plan.kind) {
      case 'test_number':
        return { verificationId: vid, status: 'pending' };
      case 'refused':
        this.d.logger.info(
          { tenant: tenant.id, phone: maskTarget(phone.e164), reason: refusal },
          'otp start refused: unavailable',
        );
        throw new AppError('otp_unavailable', `OTP cannot be sent: ${refusal}.`, {
          details: { reason: refusal },
        });
      case 'decoy':
        // A phone that is not an owner of the tenant: no SMS is sent (nobody gets a code they cannot
        // use, and nobody can pump SMS through us to arbitrary numbers), but the answer is the one an
        // owner would get — same status, same body, about the same time, the same failure while the
        // provider is failing — so the API cannot be used to find out which phones are owners.
        await this.sleepUntil(t0, decoy.ms);
        this.d.logger.info(
          { tenant: tenant.id, phone: maskTarget(phone.e164), outbox: rowInput.id },
          'otp start for a phone that is not an owner',
        );
        if (!decoy.outcome.ok) throw unavailableError(decoy.outcome);
        return { verificationId: vid, status: 'pending' };
      case 'twilio':
        return this.startTwilio(rowInput, phone, plan.row, vid, plan.ownerId, ip, t0);
    }
  }

  /** Why the live provider may not be used now, or null when every live-send condition holds. */
  private gateRefusal(tenant: TenantRow): string | null {
    if (this.env.OTP_PROVIDER === 'firebase') {
      return 'OTP_PROVIDER is firebase: the phone signs in with the Firebase client SDK, then POST /api/v1/auth/firebase';
    }
    const decision = gateFor(this.d.config, this.d.registry.get('twilio_verify'), tenant.opt_ins, 'otp_sms');
    if (decision.kind === 'allow_live' && this.twilio) return null;
    if (decision.kind === 'dry_run')
      return `${decision.reason}; an OTP cannot be dry-run, and OTP is never queued`;
    return decision.kind === 'allow_live'
      ? 'the Twilio Verify env is incomplete; OTP is never queued'
      : decision.reason;
  }

  private async writeTestNumberStart(
    q: Queryable,
    i: OtpRowInput,
    vid: string,
    ownerId: string,
    ip: string,
  ): Promise<void> {
    const note = 'QA test number (OTP_TEST_NUMBERS): no provider call, the code is checked locally';
    const row = await insertClaimedOtpRow(q, {
      ...i,
      reason: note,
      mode: 'dry_run',
      worker: this.worker,
      leaseMs: this.leaseMs(),
    });
    const at = new Date(this.now());
    await finishOtpRow(q, this.worker, {
      id: row.id,
      status: 'mock_sent',
      reason: note,
      mode: 'dry_run',
      nextAttemptAt: null,
      providerMessageId: null,
      errorCode: null,
      errorMessage: null,
      attempt: row.attempts,
      adapter: row.adapter,
      outcome: 'mock_sent',
      request: { kind: 'http', note },
      response: null,
      startedAt: at,
      finishedAt: at,
    });
    await recordVerification(
      q,
      this.newVerification(i, { vid, ownerId, method: 'test_number', providerSid: null, ip }),
    );
  }

  private async startTwilio(
    i: OtpRowInput,
    phone: OtpPhone,
    row: OutboxRow,
    vid: string,
    ownerId: string,
    ip: string,
    t0: number,
  ): Promise<{ verificationId: string; status: 'pending' }> {
    const client = this.twilio!;
    const request = this.d.redactor.scrubValue(client.createRequest(i.phone, i.locale));
    const startedAt = new Date();
    const c0 = performance.now();
    let sid: string;
    let status: string;
    try {
      // Queued behind other requests past the deadline: the caller has had its answer; no SMS now.
      const deadline = this.deadline(t0);
      if (!deadline)
        throw new ProviderError({
          class: 'retryable',
          code: 'otp_deadline',
          message: 'no time was left for the provider call within OTP_TIMEOUT_MS (the service was busy)',
        });
      ({ sid, status } = await client.start(i.phone, i.locale, deadline));
    } catch (err) {
      const classified = classifiedOf(err);
      const ms = performance.now() - c0;
      const destination = isRangeBlock(classified.providerCode);
      const finalStatus = destination ? (classified.finalStatus ?? 'dead') : 'blocked';
      const reason = destination
        ? `the OTP provider refuses this destination (${classified.code}); not retried`
        : `OTP provider unavailable (${classified.code}); OTP is never queued`;
      await this.finisher.finish(i.tenantId, {
        id: row.id,
        status: finalStatus,
        reason,
        mode: 'live',
        nextAttemptAt: null,
        providerMessageId: null,
        errorCode: classified.code,
        errorMessage: classified.message,
        attempt: row.attempts,
        adapter: row.adapter,
        outcome: classified.class,
        request,
        response: null,
        startedAt,
        finishedAt: new Date(),
      });
      this.d.logger.warn(
        {
          tenant: i.tenantId,
          phone: maskTarget(i.phone),
          outbox: row.id,
          code: classified.code,
          ms: Math.round(ms),
        },
        'otp start failed at the provider',
      );
      if (destination) {
        // From now on every start in the range gets this answer before the owner lookup. Failing to
        // remember it must not change this answer.
        await rememberBlock(this.db, phone, classified.providerCode!, this.now()).catch((e: unknown) =>
          this.d.logger.error({ err: this.d.redactor.scrub(String(e)) }, 'otp: could not remember a blocked range'),
        );
        throw blockedError(classified.providerCode!);
      }
      const outcome = unavailable(classified);
      if (classified.code !== 'otp_deadline') this.startMimic.record(ms, outcome);
      throw unavailableError(outcome);
    }
    this.startMimic.record(performance.now() - c0, { ok: true });
    await this.db.tx(
      async (q) => {
        await finishOtpRow(q, this.worker, {
          id: row.id,
          status: 'sent',
          reason: 'Twilio Verify accepted the verification',
          mode: 'live',
          nextAttemptAt: null,
          providerMessageId: sid,
          errorCode: null,
          errorMessage: null,
          attempt: row.attempts,
          adapter: row.adapter,
          outcome: 'sent',
          request,
          response: { sid, status },
          startedAt,
          finishedAt: new Date(),
        });
        await recordVerification(
          q,
          this.newVerification(i, { vid, ownerId, method: 'twilio', providerSid: sid, ip }),
        );
      },
      { tenantId: i.tenantId },
    );
    this.d.logger.info({ tenant: i.tenantId, phone: maskTarget(i.phone), outbox: row.id }, 'otp started');
    return { verificationId: vid, status: 'pending' };
  }

  private newVerification(
    i: OtpRowInput,
    v: {
      vid: string;
      ownerId: string | null;
      method: 'twilio' | 'test_number' | 'decoy';
      providerSid: string | null;
      ip: string;
    },
  ) {
    return {
      id: v.vid,
      tenantId: i.tenantId,
      phone: i.phone,
      ownerId: v.ownerId,
      method: v.method,
      providerSid: v.providerSid,
      maxChecks: this.env.OTP_MAX_CHECKS,
      nowMs: this.now(),
      ttlS: this.env.OTP_TTL_S,
      clientIp: v.ip,
      outboxId: i.id,
      actor: ACTOR,
    };
  }

  // ---------------------------------------------------------------- check

  async check(input: CheckInput, req: Pick<RequestInfo, 'elapsedMs'> = {}): Promise<Session> {
    const t0 = performance.now() - (req.elapsedMs ?? 0);
    return this.answerInTime(t0, 'check', this.checkWork(input, t0));
  }

  private async checkWork(input: CheckInput, t0: number): Promise<Session> {
    const found = await getVerification(this.db, input.verificationId);
    // Bound to the request that started it: the id is unguessable, and tenant/phone, when given, must match.
    if (
      !found ||
      (input.tenant !== undefined && input.tenant !== found.tenant_id) ||
      (input.phone !== undefined && !this.samePhone(input.phone, found.phone))
    ) {
      throw new AppError('not_found', 'No such verification (start again).');
    }
    const tenantId = found.tenant_id;
    const v = await this.db.tx((q) => reserveCheck(q, found.id, this.now()), { tenantId });
    if (!v) throw await this.spent(found.id, tenantId);

    let approved: boolean;
    switch (v.method) {
      case 'test_number': {
        const expected = this.testNumbers.get(v.phone);
        approved = expected !== undefined && safeEqual(input.code, expected);
        break;
      }
      case 'decoy': {
        const m = this.checkMimic.next();
        await this.sleepUntil(t0, m.ms);
        if (!m.outcome.ok) throw unavailableError(m.outcome);
        approved = false;
        break;
      }
      case 'twilio':
        approved = await this.checkTwilio(v, input.code, t0);
        break;
    }
    if (!approved) throw await this.wrongCode(v);
    return this.approve(v);
  }

  private samePhone(given: string, stored: string): boolean {
    try {
      return parseOtpPhone(given, this.testNumbers).e164 === stored;
    } catch {
      return false;
    }
  }

  private async checkTwilio(v: VerificationRow, code: string, t0: number): Promise<boolean> {
    if (!this.twilio || !v.provider_sid)
      throw unavailableError({
        ok: false,
        code: 'provider_not_configured',
        message: 'the Twilio Verify env is incomplete',
      });
    const c0 = performance.now();
    try {
      const deadline = this.deadline(t0);
      if (!deadline)
        throw new ProviderError({
          class: 'retryable',
          code: 'otp_deadline',
          message: 'no time was left for the provider call within OTP_TIMEOUT_MS',
        });
      const r = await this.twilio.check(v.provider_sid, code, deadline);
      this.checkMimic.record(performance.now() - c0, { ok: true });
      return r.valid;
    } catch (err) {
      const c = classifiedOf(err);
      // Twilio soft-deletes approved and expired verifications (20404) and stops at 5 checks (60202).
      if (c.code === 'twilio_20404' || c.code === 'twilio_60202') {
        const to = c.code === 'twilio_20404' ? 'expired' : 'dead';
        await this.db.tx(
          (q) =>
            settleVerification(q, {
              id: v.id,
              tenantId: v.tenant_id,
              to,
              nowMs: this.now(),
              actor: ACTOR,
              reason: `Twilio: ${c.code}`,
            }),
          { tenantId: v.tenant_id },
        );
        throw new AppError(
          'otp_expired',
          to === 'expired' ? 'The verification expired; start again.' : 'Too many wrong codes; start again.',
        );
      }
      const outcome = unavailable(c);
      if (c.code !== 'otp_deadline') this.checkMimic.record(performance.now() - c0, outcome);
      this.d.logger.warn(
        { tenant: v.tenant_id, verification: v.id, code: c.code },
        'otp check failed at the provider',
      );
      throw unavailableError(outcome);
    }
  }

  /** Why a verification takes no more checks (and, if it is still marked pending, settle it). */
  private async spent(id: string, tenantId: string): Promise<AppError> {
    const v = await getVerification(this.db, id);
    if (!v) return new AppError('not_found', 'No such verification (start again).');
    if (v.status === 'approved')
      return new AppError('otp_expired', 'This code was already used; start again.');
    if (v.status === 'superseded')
      return new AppError('otp_expired', 'A newer code was sent to this phone; use the newest one.');
    const expired =
      v.status === 'expired' || (v.status === 'pending' && v.expires_at.getTime() <= this.now());
    if (v.status === 'pending') {
      const to = expired ? 'expired' : 'dead';
      await this.db.tx(
        (q) =>
          settleVerification(q, {
            id,
            tenantId,
            to,
            nowMs: this.now(),
            actor: ACTOR,
            reason: expired ? 'lifetime over' : 'check limit reached',
          }),
        { tenantId },
      );
    }
    return expired
      ? new AppError(
          'otp_expired',
          `The verification expired (a code lives ${Math.round(this.env.OTP_TTL_S / 60)} min); start again.`,
        )
      : new AppError('otp_expired', `Too many wrong codes (at most ${v.max_checks}); start again.`);
  }

  private async wrongCode(v: VerificationRow): Promise<AppError> {
    const left = Math.max(0, v.max_checks - v.checks);
    await this.db.tx(
      async (q) => {
        if (left === 0) {
          await settleVerification(q, {
            id: v.id,
            tenantId: v.tenant_id,
            to: 'dead',
            nowMs: this.now(),
            actor: ACTOR,
            reason: 'check limit reached',
          });
        } else {
          await appendAudit(q, [
            {
              tenantId: v.tenant_id,
              entity: 'otp',
              entityId: v.id,
              actor: ACTOR,
              action: 'check_failed',
              from: 'pending',
              to: 'pending',
              detail: { checks: v.checks },
            },
          ]);
        }
      },
      { tenantId: v.tenant_id },
    );
    return new AppError(
      'otp_invalid_code',
      left === 0
        ? 'The code is wrong, and that was the last check; start again.'
        : `The code is wrong; ${left} check(s) left.`,
      {
        details: { checksLeft: left },
      },
    );
  }

  private async approve(v: VerificationRow): Promise<Session> {
    const session = await this.db.tx(
      async (q) => {
        if (
          !(await settleVerification(q, {
            id: v.id,
            tenantId: v.tenant_id,
            to: 'approved',
            nowMs: this.now(),
            actor: ACTOR,
            reason: 'code approved',
          }))
        )
          return null;
        // The owner is looked up again: a phone removed since the start signs nobody in.
        const owner = await findOwnerByPhone(q, v.tenant_id, v.phone);
        if (!owner) return 'no_owner' as const;
        return issueSession(q, {
          tenantId: v.tenant_id,
          ownerId: owner.owner_id,
          method: 'otp',
          nowMs: this.now(),
          ttlS: this.env.SESSION_TTL_S,
          actor: ACTOR,
          detail: { verification: v.id },
        });
      },
      { tenantId: v.tenant_id },
    );
    if (session === null) throw new AppError('otp_expired', 'This code was already used; start again.');
    if (session === 'no_owner')
      throw new AppError('forbidden', 'This phone is no longer an owner of the tenant.');
    this.d.logger.info({ tenant: v.tenant_id, verification: v.id }, 'owner signed in with OTP');
    return session;
  }

  // ---------------------------------------------------------------- firebase

  async firebaseSignIn(input: { idToken: string; tenant: string }): Promise<Session> {
    if (this.env.OTP_PROVIDER !== 'firebase' || !this.firebase) {
      throw new AppError(
        'otp_unavailable',
        'Firebase sign-in is not configured (OTP_PROVIDER=firebase and NEXT_PUBLIC_FIREBASE_PROJECT_ID).',
        {
          details: { reason: 'firebase_not_configured' },
        },
      );
    }
    const tenant = await this.tenant(input.tenant);
    const id = await this.firebase.verify(input.idToken);
    // A stolen ID token stays valid for an hour and its refreshes keep auth_time: only a fresh
    // phone sign-in may open a session.
    if (this.now() - id.authTime.getTime() > this.env.OTP_TTL_S * 1000) {
      throw new AppError(
        'firebase_token_expired',
        `The phone sign-in behind this token is older than ${Math.round(this.env.OTP_TTL_S / 60)} min (auth_time); sign in with the phone again.`,
      );
    }
    const session = await this.db.tx(
      async (q) => {
        const owner = await findOwnerByPhone(q, tenant.id, id.phoneNumber);
        if (!owner) return null;
        return issueSession(q, {
          tenantId: tenant.id,
          ownerId: owner.owner_id,
          method: 'firebase',
          nowMs: this.now(),
          ttlS: this.env.SESSION_TTL_S,
          actor: ACTOR,
          detail: { firebaseUid: id.uid },
        });
      },
      { tenantId: tenant.id },
    );
    if (!session) throw new AppError('forbidden', 'This phone number is not an owner of the tenant.');
    this.d.logger.info(
      { tenant: tenant.id, phone: maskTarget(id.phoneNumber) },
      'owner signed in with Firebase',
    );
    return session;
  }

  // ---------------------------------------------------------------- logout

  /** Revokes the calling session. Long-lived tokens (operator, bootstrap, service) are not sessions. */
  async logout(p: Principal, actor: string): Promise<void> {
    if (p.expiresAt === null) {
      throw new AppError(
        'conflict',
        'This is a long-lived owner token, not a sign-in session; logout revokes only sessions.',
      );
    }
    await this.db.tx((q) => revokeSession(q, { tenantId: p.tenant.id, tokenHash: p.tokenHash, actor }), {
      tenantId: p.tenant.id,
    });
  }

  // ---------------------------------------------------------------- helpers

  /**
   * The provider call's deadline, counted from the start of the request, not from the call; null
   * when the request has already used it up.
   */
  private deadline(t0: number): AbortSignal | null {
    const left = Math.floor(providerBudgetMs(this.env.OTP_TIMEOUT_MS) - (performance.now() - t0));
    return left > 0 ? AbortSignal.timeout(left) : null;
  }

  /**
   * The answer comes within OTP_TIMEOUT_MS whatever the database or the event loop is doing: past
   * the deadline the caller gets otp_unavailable, and the work still running finishes on its own
   * (it makes no provider call once its own deadline has passed, and records its row).
   */
  private async answerInTime<T>(t0: number, what: 'start' | 'check', work: Promise<T>): Promise<T> {
    const budget = answerBudgetMs(this.env.OTP_TIMEOUT_MS) - (performance.now() - t0);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.max(0, budget));
    });
    const settled = work.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const first = await Promise.race([settled, late]);
    clearTimeout(timer);
    if (first !== 'late') {
      if ('error' in first) throw first.error;
      return first.value;
    }
    void settled.then((r) => {
      if ('error' in r && !(r.error instanceof AppError))
        this.d.logger.error(
          { err: this.d.redactor.scrub(String(r.error)) },
          `otp ${what} failed after its answer`,
        );
    });
    this.d.logger.warn({ what }, `otp ${what} answered at its deadline`);
    throw unavailableError({
      ok: false,
      code: 'otp_timeout',
      message: `the request did not finish within OTP_TIMEOUT_MS (${this.env.OTP_TIMEOUT_MS} ms)`,
    });
  }

  private leaseMs(): number {
    return this.env.OTP_TIMEOUT_MS + 60_000;
  }

  private async sleepUntil(t0: number, ms: number): Promise<void> {
    const left = Math.min(ms, providerBudgetMs(this.env.OTP_TIMEOUT_MS)) - (performance.now() - t0);
    if (left > 0) await this.sleep(left);
  }
}

/**
 * Time budgets within OTP_TIMEOUT_MS, counted from the request's arrival: the answer leaves by
 * `answer`, and a provider call must end by `provider` so its outcome is recorded before the
 * answer is due. The answer's headroom (a third of the timeout, at most 750 ms) is for the timer
 * that enforces it: on a busy 2-core box it once fired ~300 ms late with a fifth (200 ms of 1 s).
 */
/** siteverify's own deadline: a third of OTP_TIMEOUT_MS, at most 3 s (Cloudflare answers in well under one). */
export function turnstileTimeoutMs(timeoutMs: number): number {
  return Math.min(3_000, Math.max(100, Math.floor(timeoutMs / 3)));
}
export function answerBudgetMs(timeoutMs: number): number {
  return timeoutMs - Math.min(750, Math.floor(timeoutMs / 3));
}
export function providerBudgetMs(timeoutMs: number): number {
  const answer = answerBudgetMs(timeoutMs);
  return answer - Math.min(250, Math.floor(timeoutMs / 10));
}

function limitError(v: { rule: string; retryAfterS: number }): AppError {
  return new AppError(
    'rate_limited',
    `Too many codes requested (${v.rule.replace(/_/g, ' ')} limit); try again in ${v.retryAfterS} s.`,
    {
      headers: { 'retry-after': String(v.retryAfterS) },
      details: { limit: v.rule, retryAfterS: v.retryAfterS },
    },
  );
}

function classifiedOf(err: unknown): Classified {
  if (err instanceof ProviderError) return err.classified;
  return {
    class: 'retryable',
    code: 'otp_provider_error',
    message: 'unexpected error calling the OTP provider',
  };
}

function unavailable(c: Classified): ProviderFailure {
  const waitS = c.retryAfterMs !== undefined ? Math.max(1, Math.ceil(c.retryAfterMs / 1000)) : undefined;
  const message =
    c.code === 'otp_deadline'
      ? 'the request ran out of time before the provider call'
      : c.code === 'provider_uncertain' || /_(timeout|aborted)$/.test(c.code)
        ? 'the OTP provider did not answer in time'
        : /_(connection|dns|reset)$/.test(c.code)
          ? 'the OTP provider cannot be reached'
          : c.class === 'rate_limited'
            ? 'the OTP provider is rate-limiting requests'
            : 'the OTP provider refused the request';
  return { ok: false, code: c.code, message, ...(waitS !== undefined ? { retryAfterS: waitS } : {}) };
}

function unavailableError(o: ProviderFailure): AppError {
  return new AppError(
    'otp_unavailable',
    `OTP cannot be sent now: ${o.message} (${o.code}). Nothing was queued; try again later.`,
    {
      details: { reason: o.code },
      ...(o.retryAfterS !== undefined ? { headers: { 'retry-after': String(o.retryAfterS) } } : {}),
    },
  );
}
