/**
 * One registry of stable error codes. Every error the API returns is an AppError with one of
 * these codes; the README's error table is tested against this list.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, description: 'The request is malformed (bad JSON, wrong content type).' },
  validation_failed: {
    status: 400,
    description:
      'The body, query, path id or page cursor does not match the schema (also: both body and template given).',
  },
  unknown_channel: { status: 400, description: 'The channel is not one of the supported channels.' },
  invalid_phone: { status: 400, description: 'The target is not a valid E.164 phone number.' },
  invalid_email: { status: 400, description: 'The target is not a valid email address.' },
  invalid_target: { status: 400, description: 'The target does not fit the channel.' },
  secret_in_content: {
    status: 400,
    description:
      'The request (a message, a device name, any owner-supplied text on a write route) contains the value of a configured secret; it is refused, not sent or stored.',
  },
  unknown_template: {
    status: 400,
    description: 'The template id is not known (GET /api/v1/templates lists them).',
  },
  template_data_invalid: {
    status: 400,
    description: 'The template data is missing fields the template needs.',
  },
  unauthorized: {
    status: 401,
    description:
      'No bearer token ("a bearer token is required"), or one that is not valid (malformed, unknown, expired or revoked).',
  },
  invalid_signature: { status: 401, description: 'A webhook signature or secret did not verify.' },
  forbidden: { status: 403, description: 'The token is valid but its role may not do this.' },
  webhook_verify_failed: {
    status: 403,
    description:
      'The WhatsApp webhook verification GET had the wrong hub.mode, hub.verify_token or hub.challenge.',
  },
  origin_not_allowed: {
    status: 403,
    description: 'The browser Origin may not open the LAN WebSocket (LAN_ALLOWED_ORIGINS).',
  },
  turnstile_failed: {
    status: 403,
    description:
      'The Cloudflare Turnstile token was missing, spent, expired, refused, or solved for another hostname or action; no code was sent.',
  },
  destination_not_allowed: {
    status: 403,
    description:
      'The OTP destination is outside the tenant allow-list, or the provider refuses it (Twilio 60410 Fraud Guard, 60605 Geo Permissions).',
  },
  not_found: { status: 404, description: 'No such resource for this tenant (or no such route).' },
  method_not_allowed: {
    status: 405,
    description:
      'The path exists but does not take this method; the Allow header lists the methods it takes.',
  },
  idempotency_conflict: { status: 409, description: 'The idempotency key was used with a different body.' },
  conflict: { status: 409, description: 'The resource already exists or its state forbids the change.' },
  invalid_transition: { status: 409, description: 'The outbox row cannot move to the requested status.' },
  payload_too_large: { status: 413, description: 'The body is over the route limit.' },
  unsupported_media_type: { status: 415, description: 'The content type is not accepted by this route.' },
  device_exists: {
    status: 409,
    description: 'A LAN device with this id is already registered for the tenant.',
  },
  pairing_code_invalid: {
    status: 400,
    description:
      'The pairing code is unknown, expired, used, or killed by wrong tries; ask the owner for a new one.',
  },
  upgrade_required: {
    status: 426,
    description: 'The LAN WebSocket path was requested without a WebSocket upgrade.',
  },
  rate_limited: { status: 429, description: 'Too many requests; wait for Retry-After seconds.' },
  otp_invalid_code: { status: 400, description: 'The OTP code is wrong.' },
  otp_expired: {
    status: 410,
    description: 'The OTP verification expired, was used, or hit its check limit.',
  },
  turnstile_unavailable: {
    status: 503,
    description:
      'OTP start is protected by Cloudflare Turnstile and the check could not be made (secret not configured, siteverify timed out, unreachable or not JSON); nothing was sent.',
  },
  otp_unavailable: {
    status: 503,
    description: 'OTP cannot be sent now (no provider, sends disabled, provider down).',
  },
  firebase_token_invalid: {
    status: 401,
    description: 'The Firebase ID token is malformed or its signature fails.',
  },
  firebase_token_expired: { status: 401, description: 'The Firebase ID token has expired.' },
  firebase_wrong_audience: {
    status: 401,
    description: 'The Firebase ID token is for another project (aud).',
  },
  firebase_wrong_issuer: { status: 401, description: 'The Firebase ID token has the wrong issuer (iss).' },
  firebase_unknown_kid: {
    status: 401,
    description: 'The Firebase ID token key id is not among the current keys.',
  },
  firebase_wrong_algorithm: { status: 401, description: 'The Firebase ID token is not RS256.' },
  firebase_missing_phone: { status: 401, description: 'The Firebase ID token carries no phone_number.' },
  firebase_keys_unavailable: {
    status: 503,
    description: 'The Firebase signing certificates (FIREBASE_CERTS_URL) cannot be fetched or read.',
  },
  whatsapp_template_unknown: {
    status: 400,
    description:
      "The WhatsApp template (data.whatsappTemplate, data.language) is not among the business account's synced templates.",
  },
  whatsapp_template_not_approved: {
    status: 400,
    description:
      'The WhatsApp template is synced but Meta has not APPROVED it (pending, rejected, paused or disabled).',
  },
  whatsapp_template_params: {
    status: 400,
    description:
      'The WhatsApp template send gives a different number of body parameters (data.params) than the template has.',
  },
  whatsapp_template_sync_failed: {
    status: 502,
    description:
      'Meta did not answer the message_templates listing usably (refused, timed out or not JSON); the synced list is unchanged.',
  },
  provider_not_configured: {
    status: 409,
    description: 'The provider env is incomplete, so there is nothing to check or send with.',
  },
  verify_not_supported: {
    status: 400,
    description: 'This adapter has no credential check (the LAN hub has no credentials).',
  },
  store_unavailable: { status: 503, description: 'The database cannot be reached; nothing was accepted.' },
  lan_unavailable: {
    status: 503,
    description: 'The LAN hub is not running in this process (or is stopping).',
  },
  printer_address_not_allowed: {
    status: 400,
    description:
      'The printer address is not an IP address in a loopback, private or link-local range (or LAN_PRINTER_ALLOWED_NETWORKS).',
  },
  printer_unavailable: {
    status: 503,
    description:
      'The printer did not print: offline, paper end, cover open, error, unreachable or no status answer (the reason is in the message).',
  },
  internal_error: { status: 500, description: 'An unexpected error; the message is scrubbed of secrets.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = opts.details;
    this.headers = opts.headers;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
