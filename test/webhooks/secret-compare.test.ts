import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { safeEqual } from '../../src/core/secret-compare.ts';
import { verifyTelegramSecret } from '../../src/webhooks/signature.ts';
import { buildStartUpdate } from '../fakes/telegram-bot.ts';
import { CANARIES } from '../helpers/canary.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import { buildInboundPayload, newWamid } from '../fakes/whatsapp-cloud.ts';
import { metaSigned, modulesWith, PHONE_ID, postTelegram, postWhatsApp } from './helpers.ts';

// Every importer of the module (the webhook routes, signature.ts) gets this wrapper: it counts the
// calls and passes them to the real comparison unless a test overrides its answer.
vi.mock('../../src/core/secret-compare.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/core/secret-compare.ts')>();
  return { ...real, safeEqual: vi.fn(real.safeEqual) };
});
const spy = vi.mocked(safeEqual);

/**
 * The webhook secrets are decided by safeEqual (constant time) and by nothing else: the calls carry
 * exactly the given and the configured value, and when safeEqual's answer is forced the endpoint
 * follows it, both ways. A `===` hidden next to it would make a forced "equal" still refuse a wrong
 * value, or a forced "different" still accept the right one.
 */
describe('secret comparisons go through safeEqual [pglite]', () => {
  let app: TestApp;
  const VERIFY = CANARIES.WHATSAPP_VERIFY_TOKEN!;
  const TG = CANARIES.TELEGRAM_WEBHOOK_SECRET!;
  beforeAll(async () => {
    app = await createTestApp('pglite', { modules: modulesWith().modules });
  });
  afterAll(() => app.close());
  // Back to the real comparison, no calls recorded. (Braces: a function returned from beforeEach
  // would be run as its teardown, and the spy is a function.)
  beforeEach(() => {
    spy.mockReset();
  });

  const verify = (token: string) =>
    app.inject({
      method: 'GET',
      url: `/webhooks/whatsapp?${new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.challenge': '42', 'hub.verify_token': token }).toString()}`,
    });
  const secretCalls = (secret: string) => spy.mock.calls.filter(([, b]) => b === secret);

  it('WhatsApp verify token: compared with safeEqual(given, configured); its answer decides', async () => {
    expect((await verify(VERIFY)).statusCode).toBe(200);
    expect(secretCalls(VERIFY)).toEqual([[VERIFY, VERIFY]]);
    spy.mockClear();
    expect((await verify('wrong-token')).statusCode).toBe(403);
    expect(secretCalls(VERIFY)).toEqual([['wrong-token', VERIFY]]);

    spy.mockReturnValue(true);
    expect((await verify('wrong-token')).statusCode).toBe(200);
    spy.mockReturnValue(false);
    expect((await verify(VERIFY)).statusCode).toBe(403);
  });

  it('Telegram: the path secret and the header are each compared with safeEqual, both always; the answers decide', async () => {
    const update = buildStartUpdate({ updateId: 7, chatId: 7, text: 'hi' });
    expect((await postTelegram(app, update, TG, TG)).statusCode).toBe(200);
    expect(secretCalls(TG)).toEqual([
      [TG, TG],
      [TG, TG],
    ]);
    // Both are compared even when the first is already wrong (no short-circuit on the path).
    spy.mockClear();
    expect((await postTelegram(app, update, 'wrong-path', 'wrong-header')).statusCode).toBe(401);
    expect(secretCalls(TG)).toEqual([
      ['wrong-path', TG],
      ['wrong-header', TG],
    ]);

    spy.mockReturnValue(true);
    expect((await postTelegram(app, update, 'wrong-path', 'wrong-header')).statusCode).toBe(200);
    // Either comparison saying "different" refuses, whichever secret it was about.
    spy.mockReturnValueOnce(false).mockReturnValueOnce(true);
    expect((await postTelegram(app, update, TG, TG)).statusCode).toBe(401);
    spy.mockReturnValueOnce(true).mockReturnValueOnce(false);
    expect((await postTelegram(app, update, TG, TG)).statusCode).toBe(401);
  });

  it('WhatsApp POST: the X-Hub-Signature-256 digest is compared with safeEqual(expected, given); its answer decides', async () => {
    const { raw, signature } = metaSigned(
      buildInboundPayload({
        phoneNumberId: PHONE_ID,
        from: '994501234567',
        text: 'salam',
        id: newWamid(),
        timestamp: 1_750_000_000,
      }),
    );
    const digest = signature.slice('sha256='.length);
    expect((await postWhatsApp(app, raw, signature)).statusCode).toBe(200);
    expect(spy.mock.calls).toEqual([[digest, digest]]);
    spy.mockClear();
    const wrong = `sha256=${'0'.repeat(64)}`;
    expect((await postWhatsApp(app, raw, wrong)).statusCode).toBe(401);
    expect(spy.mock.calls).toEqual([[digest, '0'.repeat(64)]]);

    spy.mockReturnValue(true);
    expect((await postWhatsApp(app, raw, wrong)).statusCode).toBe(200);
    spy.mockReturnValue(false);
    expect((await postWhatsApp(app, raw, signature)).statusCode).toBe(401);
  });

  it('verifyTelegramSecret itself: a missing header is compared as the empty string, an unset secret refuses before comparing', () => {
    expect(verifyTelegramSecret(TG, undefined, TG)).toBe(false);
    expect(spy.mock.calls).toEqual([
      [TG, TG],
      ['', TG],
    ]);
    spy.mockClear();
    expect(verifyTelegramSecret(TG, TG, undefined)).toBe(false);
    expect(spy).not.toHaveBeenCalled();
  });
});
