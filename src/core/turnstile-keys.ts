/**
 * Cloudflare Turnstile's documented dummy keys (developers.cloudflare.com/turnstile/troubleshooting/testing/).
 * Secrets: 1x… always passes, 2x… always fails, 3x… answers "token already spent". Site keys:
 * visible pass / fail, invisible pass / fail, forced interactive challenge. Allowed only in the QA runtime.
 */
export const TURNSTILE_DUMMY_SECRETS: readonly string[] = [
  '1x0000000000000000000000000000000AA',
  '2x0000000000000000000000000000000AA',
  '3x0000000000000000000000000000000AA',
];
export const TURNSTILE_DUMMY_SITE_KEYS: readonly string[] = [
  '1x00000000000000000000AA',
  '2x00000000000000000000AB',
  '1x00000000000000000000BB',
  '2x00000000000000000000BB',
  '3x00000000000000000000FF',
];
/** The token the dummy site keys hand the browser. */
export const TURNSTILE_DUMMY_TOKEN = 'XXXX.DUMMY.TOKEN.XXXX';
