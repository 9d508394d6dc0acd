import { randomInt } from 'node:crypto';
import { expect } from 'vitest';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { otpModule } from '../../src/otp/module.ts';
import { addOwnerPhone } from '../../src/otp/owners.ts';
import type { RuntimeModule as ServiceModule } from '../../src/app/runtime.ts';
import { startTwilioVerifyFake, type TwilioVerifyFake } from '../fakes/twilio-verify.ts';
import { CANARIES } from '../helpers/canary.ts';
import type { DriverKind } from '../helpers/db.ts';
import { createTestApp, type TestApp, type TestAppOptions } from '../helpers/runtime.ts';

export const ACCOUNT_SID = `AC${'01'.repeat(16)}`;
export const SERVICE_SID = `VA${'23'.repeat(16)}`;
// Ten-digit codes: a six-digit code could turn up by chance inside a timestamp or an id in the sweep.
export const CODE_LENGTH = 10;

/** A clock tests move by hand; shared by the service and the Twilio fake. */
export class FakeClock {
  constructor(public t = Date.now()) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** The env that makes OTP live against the local Twilio fake (every gate condition holds). */
export function liveOtpEnv(
  fake: TwilioVerifyFake,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    MUPZA_RUNTIME: 'production',
    COMMS_EXTERNAL_SENDS: 'enabled',
    OTP_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_VERIFY_SERVICE_SID: SERVICE_SID,
    TWILIO_VERIFY_BASE_URL: fake.url,
    ...extra,
  };
}

export function startFake(clock: FakeClock): Promise<TwilioVerifyFake> {
  return startTwilioVerifyFake({
    accountSid: ACCOUNT_SID,
    authToken: CANARIES.TWILIO_AUTH_TOKEN!,
    serviceSid: SERVICE_SID,
    now: clock.now,
    codeLength: CODE_LENGTH,
  });
}

/** A random valid Azerbaijani mobile number (+99450…). */
export function azPhone(): string {
  return `+99450${String(randomInt(1_000_000, 9_999_999))}`;
}

export async function addOwner(
  app: TestApp,
  phone: string,
  tenantId = 'acme',
  ownerId = `${tenantId}-owner`,
): Promise<void> {
  await app.db.tx((q) => addOwnerPhone(q, { tenantId, ownerId, phone, actor: 'test' }), { tenantId });
}

/**
 * Every code a test file uses (right or wrong) and every answer it got: after the file, the codes
 * must appear nowhere — not in a log line, a stored row (any table) or a response.
 */
export class CodeSweep {
  readonly codes = new Set<string>();
  readonly bodies: string[] = [];

  use(code: string): string {
    this.codes.add(code);
    return code;
  }

  /** A wrong code of the same length, distinct from the right one. */
  wrong(right: string): string {
    let w = right;
    while (w === right) w = String(randomInt(0, 10 ** right.length)).padStart(right.length, '0');
    return this.use(w);
  }

  record(res: LightMyRequestResponse): LightMyRequestResponse {
    this.bodies.push(res.body + JSON.stringify(res.headers));
    return res;
  }

  async assertClean(app: TestApp): Promise<void> {
    const tables = await app.db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const stored: string[] = [];
    for (const { table_name } of tables.rows) {
      const r = await app.db.query<{ t: string }>(
        `SELECT coalesce(string_agg(x::text, '\n'), '') AS t FROM "${table_name}" x`,
      );
      stored.push(r.rows[0]?.t ?? '');
    }
    const where = {
      logs: app.logs.lines.join('\n'),
      rows: stored.join('\n'),
      responses: this.bodies.join('\n'),
    };
    expect(this.codes.size).toBeGreaterThan(0);
    for (const code of this.codes) {
      for (const [place, text] of Object.entries(where))
        expect(text.includes(code), `code found in ${place}`).toBe(false);
    }
    // The sweep looked at something real.
    expect(app.logs.lines.length).toBeGreaterThan(0);
    expect(this.bodies.length).toBeGreaterThan(0);
  }
}

export interface OtpApp {
  app: TestApp;
  otp: ReturnType<typeof otpModule>;
  post(url: string, payload: unknown, opts?: Partial<InjectOptions>): Promise<LightMyRequestResponse>;
}

/** A test app with the OTP module on the fake clock (plus any other modules given). */
export async function createOtpApp(
  kind: DriverKind,
  clock: FakeClock,
  o: TestAppOptions & { extraModules?: ServiceModule[]; sweep?: CodeSweep; ip?: string } = {},
): Promise<OtpApp> {
  const otp = otpModule({ now: clock.now });
  const app = await createTestApp(kind, { ...o, modules: [otp, ...(o.extraModules ?? [])] });
  const post = async (url: string, payload: unknown, opts: Partial<InjectOptions> = {}) => {
    const res = await app.inject({
      method: 'POST',
      url,
      payload: payload as InjectOptions['payload'],
      remoteAddress: o.ip ?? '203.0.113.7',
      ...opts,
    });
    o.sweep?.record(res);
    return res;
  };
  return { app, otp, post };
}

/** A local port nothing listens on (bound, then released), for "provider unreachable". */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
