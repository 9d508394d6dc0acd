import { randomBytes } from 'node:crypto';
import {
  FakeRefusal,
  HttpFake,
  parseJson,
  postWebhook,
  type FakeRequest,
  type FakeResponse,
  type WebhookDelivery,
} from './http-fake-base.ts';
import { TokenBucket } from './token-bucket.ts';
import {
  DEFAULT_THROUGHPUT_PER_SECOND,
  OVERLAY_ERRORS,
  PAIR_BURST,
  PAIR_INTERVAL_MS,
  isBsuid,
} from './whatsapp-2026-overlay.ts';
import { validateWhatsAppMessage, type WhatsAppMessageKind } from './whatsapp-schema.ts';
import {
  DEFAULT_DISPLAY_PHONE_NUMBER,
  buildInboundPayload,
  buildStatusPayload,
  buildSystemChangePayload,
  newWamid,
  signWhatsAppBody,
  toMetaJson,
  type StatusPayloadOptions,
  type SystemChangeOptions,
  type WhatsAppStatus,
  type WhatsAppStatusError,
} from './whatsapp-webhooks.ts';

// Webhook helpers live in whatsapp-webhooks.ts; re-exported so tests can import everything from here.
export {
  buildInboundPayload,
  buildStatusPayload,
  buildSystemChangePayload,
  newWamid,
  signWhatsAppBody,
  toMetaJson,
  type InboundPayloadOptions,
  type StatusPayloadOptions,
  type SystemChangeOptions,
  type WhatsAppStatus,
  type WhatsAppStatusError,
} from './whatsapp-webhooks.ts';

/**
 * Fake WhatsApp Cloud API (PROVIDERS.md section 3): POST /{version}/{phoneNumberId}/messages with a
 * Bearer token, relaxed body validation, the 24-hour customer-service window, Graph API error shapes,
 * and signed status / inbound webhooks. Also GET /{version}/{phoneNumberId} (the spec's
 * getPhoneNumberById, our credential check), behind the same Bearer check.
 */

export interface WhatsAppFakeOptions {
  accessToken: string;
  phoneNumberId: string;
  /** Graph API version in the path; default 'v23.0' (the spec's version). */
  apiVersion?: string;
  appSecret: string;
  /** Where webhooks go; can also be set later with setWebhookUrl(). */
  webhookUrl?: string;
  now?: () => number;
  /** Post sent → delivered → read for each accepted message. */
  autoStatuses?: boolean;
  /** Gap between automatic statuses (default 10 ms). */
  autoStatusDelayMs?: number;
  wabaId?: string;
  displayPhoneNumber?: string;
  /** Answered by GET /{version}/{phoneNumberId}; defaults 'MUPZAOS Test' and 'GREEN'. */
  verifiedName?: string;
  qualityRating?: 'GREEN' | 'YELLOW' | 'RED' | 'NA';
  /**
   * Enforce Meta's limits (overlay limit.throughput, limit.pair): sends per second of this number
   * (130429 above it) and, per recipient, a burst and one more send per `intervalMs` (131056 above
   * it). Off by default; `true` takes Meta's defaults (80/s; 45, then one per 6 s).
   */
  limits?: boolean | { throughputPerSecond?: number; pairBurst?: number; pairIntervalMs?: number };
}

export type WhatsAppErrorCode =
  | 0
  | 4
  | 10
  | 100
  | 190
  | 368
  | 803
  | 80007
  | 130429
  | 131000
  | 131026
  | 131047
  | 131048
  | 131049
  | 131056
  | 131062;

// HTTP statuses from the Meta table as mirrored in PROVIDERS.md (code 4 is disputed: 400 vs 429).
const ERRORS: Record<WhatsAppErrorCode, { status: number; title: string; details: string; type?: string }> = {
  0: { status: 401, title: 'AuthException', details: 'We were unable to authenticate the app user.' },
  4: { status: 400, title: 'API Too Many Calls', details: 'The app has reached its API call rate limit.' },
  10: {
    status: 403,
    title: 'Permission denied',
    details: 'Permission is either not granted or has been removed.',
  },
  100: { status: 400, title: 'Invalid parameter', details: 'Invalid parameter.' },
  190: { status: 401, title: 'Access token has expired', details: 'Your access token has expired.' },
  // The spec's 404 example for getPhoneNumberById.
  803: {
    status: 404,
    title: 'Phone number not found',
    details: 'Phone number not found',
    type: 'GraphMethodException',
  },
  368: {
    status: 403,
    title: 'Temporarily blocked for policies violations',
    details: 'The WhatsApp Business Account is restricted.',
  },
  80007: {
    status: 400,
    title: 'Rate limit issues',
    details: 'The WhatsApp Business Account has reached its rate limit.',
  },
  130429: { status: 400, title: 'Rate limit hit', details: 'Cloud API message throughput has been reached.' },
  131000: {
    status: 500,
    title: 'Something went wrong',
    details: 'Message failed to send due to an unknown error.',
  },
  131026: { status: 400, title: 'Message undeliverable', details: 'Message Undeliverable.' },
  131047: {
    status: 400,
    title: 'Re-engagement message',
    details:
      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  131048: {
    status: 400,
    title: 'Spam rate limit hit',
    details:
      'Message failed to send because there are restrictions on how many messages can be sent from this phone number.',
  },
  ...OVERLAY_ERRORS,
  131056: {
    status: 400,
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details:
      'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
  },
};

/** One template of the business account (its BODY text carries the {{n}} placeholders). */
export interface FakeTemplate {
  name: string;
  language: string;
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
  status: 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED';
  body: string;
  header?: string;
}

export interface WhatsAppForcedError {
  code: WhatsAppErrorCode;
  status?: number;
  details?: string;
}

export interface WhatsAppReceiptBody {
  wamid: string;
  /** Digits only, as the wa_id Meta returns; for a send to a BSUID (`recipient`), the BSUID. */
  waId: string;
  /** 2026: which field addressed the message (whatsapp-2026-overlay.ts, send.recipient). */
  addressedBy: 'to' | 'recipient';
  kind: WhatsAppMessageKind;
  /** The parsed request body. */
  message: Record<string, unknown>;
}

export interface InboundDelivery extends WebhookDelivery {
  messageId: string;
}

/** The customer-service window: 24 h after the customer's last message. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60_000;

// getPhoneNumberById: the default fields, and the extra ones `fields` may ask for (spec PhoneNumberInfo).
const PHONE_DEFAULT_FIELDS = ['id', 'display_phone_number', 'verified_name', 'quality_rating'];
const PHONE_EXTRA_FIELDS: Record<string, string> = {
  name_status: 'APPROVED',
  code_verification_status: 'VERIFIED',
};

export class WhatsAppFake extends HttpFake<WhatsAppReceiptBody, WhatsAppForcedError> {
  /** Every webhook POST the fake made, with the exact bytes and the receiver's answer. */
  readonly webhookDeliveries: WebhookDelivery[] = [];
  private webhookUrl: string | undefined;
  private readonly apiVersion: string;
  private readonly lastInbound = new Map<string, number>();
  private readonly sent = new Map<string, WhatsAppReceiptBody>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly throughput: TokenBucket | null;
  private readonly pairs = new Map<string, TokenBucket>();
  private readonly pairLimit: { burst: number; perSecond: number } | null;
  /** Sends refused by the limits, by code (what a test checks the pacing against). */
  readonly limitRefusals = { 130429: 0, 131056: 0 };

  constructor(private readonly opts: WhatsAppFakeOptions) {
    super(opts);
    this.apiVersion = opts.apiVersion ?? 'v23.0';
    this.webhookUrl = opts.webhookUrl;
    const l = opts.limits === true ? {} : opts.limits || null;
    const perSecond = l?.throughputPerSecond ?? DEFAULT_THROUGHPUT_PER_SECOND;
    this.throughput = l ? new TokenBucket(Math.max(1, perSecond), perSecond, () => this.now()) : null;
    this.pairLimit = l
      ? { burst: l.pairBurst ?? PAIR_BURST, perSecond: 1000 / (l.pairIntervalMs ?? PAIR_INTERVAL_MS) }
      : null;
  }

  /** The business account's templates (overlay templates.list), as Meta's Business Management API lists them. */
  private templates: FakeTemplate[] = [];

  /** Replaces the templates GET /{version}/{wabaId}/message_templates answers (needs options.wabaId). */
  setTemplates(list: FakeTemplate[]): void {
    this.templates = list.map((t) => ({ ...t }));
  }

  /** Paged like Meta: `limit` (default 25) and an `after` cursor; paging.next is an absolute URL. */
  private messageTemplates(req: FakeRequest): FakeResponse {
    const limit = Math.min(100, Math.max(1, Number(req.query.get('limit') ?? 25) || 25));
    const start = Number(Buffer.from(req.query.get('after') ?? '', 'base64url').toString() || 0) || 0;
    const page = this.templates.slice(start, start + limit);
    const data = page.map((t, i) => ({
      id: String(1_000_000 + start + i),
      name: t.name,
      language: t.language,
      category: t.category,
      status: t.status,
      components: [
        ...(t.header ? [{ type: 'HEADER', format: 'TEXT', text: t.header }] : []),
        { type: 'BODY', text: t.body },
      ],
    }));
    const end = start + page.length;
    const cursor = (n: number) => Buffer.from(String(n)).toString('base64url');
    const next = new URL(`${this.url}${req.path}`);
    next.searchParams.set('limit', String(limit));
    next.searchParams.set('after', cursor(end));
    return {
      status: 200,
      json: {
        data,
        paging: {
          cursors: { before: cursor(start), after: cursor(end) },
          ...(end < this.templates.length ? { next: next.toString() } : {}),
        },
      },
    };
  }

  /** Meta's pair limit for one recipient: refuses (131056) when its bucket is empty. */
  private takePair(waId: string): void {
    if (!this.pairLimit) return;
    let bucket = this.pairs.get(waId);
    if (!bucket) {
      bucket = new TokenBucket(this.pairLimit.burst, this.pairLimit.perSecond, () => this.now());
      this.pairs.set(waId, bucket);
    }
    if (bucket.waitMs() > 0) {
      this.limitRefusals[131056]++;
      throw refuse(131056, 'pair rate limit');
    }
    bucket.take();
  }

  /** The messages endpoint an adapter should call. */
  get messagesUrl(): string {
    return `${this.url}/${this.apiVersion}/${this.opts.phoneNumberId}/messages`;
  }

  setWebhookUrl(url: string): void {
    this.webhookUrl = url;
  }

  /** Opens (or refreshes) the 24-hour window for a recipient, as if they had just written. */
  openWindow(waId: string, atMs: number = this.now()): void {
    this.lastInbound.set(userKey(waId), atMs);
  }

  closeWindow(waId: string): void {
    this.lastInbound.delete(userKey(waId));
  }

  isWindowOpen(waId: string): boolean {
    const at = this.lastInbound.get(userKey(waId));
    return at !== undefined && this.now() - at < SERVICE_WINDOW_MS;
  }

  /** The next `times` authenticated sends answer this Graph API error. */
  forceError(code: WhatsAppErrorCode, times = 1, options: Omit<WhatsAppForcedError, 'code'> = {}): void {
    if (!(code in ERRORS)) throw new Error(`whatsapp fake: unsupported forced error ${String(code)}`);
    this.queueForcedError({ code, ...options }, times);
  }

  /** Posts a signed status webhook for a message this fake accepted (or any wamid, with recipientId). */
  async sendStatus(
    wamid: string,
    status: WhatsAppStatus,
    errors?: WhatsAppStatusError[],
    options: { recipientId?: string; pricing?: StatusPayloadOptions['pricing'] } = {},
  ): Promise<WebhookDelivery> {
    const sent = this.sent.get(wamid);
    const recipientId = options.recipientId ?? sent?.waId;
    if (!recipientId) throw new Error(`whatsapp fake: unknown wamid ${wamid}; pass options.recipientId`);
    const bizOpaque = sent?.message.biz_opaque_callback_data;
    // A message sent to a BSUID reports recipient_user_id; Meta withholds the phone (overlay status.recipient_user_id).
    const byBsuid = isBsuid(recipientId);
    const payload = buildStatusPayload({
      ...this.metadata(),
      wamid,
      status,
      ...(byBsuid ? { recipientUserId: recipientId } : { recipientId }),
      ...(options.pricing ? { pricing: options.pricing } : {}),
      timestamp: Math.floor(this.now() / 1000),
      ...(errors ? { errors } : {}),
      ...(typeof bizOpaque === 'string' ? { bizOpaqueCallbackData: bizOpaque } : {}),
    });
    return this.postSigned(payload);
  }

  /**
   * Posts a signed inbound text message webhook and opens the sender's 24-hour window (by phone and
   * by BSUID). A username customer comes with `userId` (and maybe `username`) and no `from`.
   */
  async sendInbound(input: {
    from?: string;
    userId?: string;
    parentUserId?: string;
    username?: string;
    text: string;
    id?: string;
    profileName?: string;
  }): Promise<InboundDelivery> {
    const messageId = input.id ?? newWamid();
    if (input.from === undefined && input.userId === undefined)
      throw new Error('whatsapp fake: sendInbound needs from or userId');
    if (input.from !== undefined) this.openWindow(input.from);
    if (input.userId !== undefined) this.openWindow(input.userId);
    if (input.parentUserId !== undefined) this.openWindow(input.parentUserId);
    const payload = buildInboundPayload({
      ...this.metadata(),
      ...(input.from !== undefined ? { from: digits(input.from) } : {}),
      ...(input.userId !== undefined ? { userId: input.userId } : {}),
      ...(input.parentUserId !== undefined ? { parentUserId: input.parentUserId } : {}),
      ...(input.username !== undefined ? { username: input.username } : {}),
      text: input.text,
      id: messageId,
      timestamp: Math.floor(this.now() / 1000),
      ...(input.profileName !== undefined ? { profileName: input.profileName } : {}),
    });
    return { ...(await this.postSigned(payload)), messageId };
  }

  /**
   * Posts a signed system message: the customer changed their number (the window follows them to
   * the new one) or their BSUID changed.
   */
  async sendSystemChange(
    input: Omit<SystemChangeOptions, 'timestamp' | keyof WebhookMetadataOptionsLike>,
  ): Promise<InboundDelivery> {
    const messageId = input.id ?? newWamid();
    const old = input.from ?? input.fromUserId;
    const at = old === undefined ? undefined : this.lastInbound.get(userKey(old));
    if (at !== undefined) {
      if (input.newWaId !== undefined) this.lastInbound.set(userKey(input.newWaId), at);
      if (input.newUserId !== undefined) this.lastInbound.set(userKey(input.newUserId), at);
    }
    const payload = buildSystemChangePayload({
      ...this.metadata(),
      ...input,
      id: messageId,
      timestamp: Math.floor(this.now() / 1000),
    });
    return { ...(await this.postSigned(payload)), messageId };
  }

  /** Meta's subscription handshake: GET webhookUrl?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…. */
  async verifyWebhook(
    verifyToken: string,
    challenge = String(1_000_000_000 + (randomBytes(4).readUInt32BE() % 1e9)),
  ) {
    const url = new URL(this.requireWebhookUrl());
    url.searchParams.set('hub.mode', 'subscribe');
    url.searchParams.set('hub.challenge', challenge);
    url.searchParams.set('hub.verify_token', verifyToken);
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = await res.text();
    return { status: res.status, body, challenge, accepted: res.status === 200 && body === challenge };
  }

  protected override onClose(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  protected serverErrorResponse(): FakeResponse {
    return graphError(131000);
  }

  protected rateLimitResponse(): FakeResponse {
    // Meta answers throughput limits with HTTP 400 / code 130429 and no Retry-After header.
    return graphError(130429);
  }

  protected handle(req: FakeRequest): FakeResponse {
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/.exec(auth)?.[1];
    if (token !== this.opts.accessToken) {
      const res = graphError(190, { message: 'Invalid OAuth access token - Cannot parse access token' });
      res.headers = {
        'www-authenticate': 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"',
      };
      throw new FakeRefusal(res, token ? 'bad token' : 'missing token', 190);
    }
    if (req.method === 'GET' && /^\/[^/]+\/[^/]+$/.test(req.path)) return this.phoneNumber(req);
    if (
      req.method === 'GET' &&
      this.opts.wabaId &&
      req.path === `/${this.apiVersion}/${this.opts.wabaId}/message_templates`
    )
      return this.messageTemplates(req);
    const expected = `/${this.apiVersion}/${this.opts.phoneNumberId}/messages`;
    if (req.path !== expected || req.method !== 'POST') {
      throw refuse(100, `no route ${req.method} ${req.path}`, {
        message: `Unsupported ${req.method.toLowerCase()} request. Object with ID '${req.path.split('/')[2] ?? ''}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      });
    }
    if (req.contentType !== 'application/json')
      throw refuse(100, `content-type ${req.contentType || '(none)'}`);
    const forced = this.takeForcedError();
    if (forced) throw refuse(forced.code, 'forced error', forced);
    if (this.throughput) {
      if (this.throughput.waitMs() > 0) {
        this.limitRefusals[130429]++;
        throw refuse(130429, 'throughput limit');
      }
      this.throughput.take();
    }
    const body = parseJson(req.rawBody);
    const checked = validateWhatsAppMessage(body);
    if ('problem' in checked) throw refuse(100, `schema: ${checked.problem}`, { details: checked.problem });
    const message = body as Record<string, unknown>;
    // `to` wins when both are given (overlay send.recipient).
    const addressedBy = message.to !== undefined ? 'to' : 'recipient';
    const input = String(addressedBy === 'to' ? message.to : message.recipient);
    const waId = addressedBy === 'to' ? digits(input) : input;
    if (checked.kind !== 'template' && !this.isWindowOpen(waId)) throw refuse(131047, 'outside 24h window');
    this.takePair(waId);

    const receipt: WhatsAppReceiptBody = {
      wamid: newWamid(),
      waId,
      addressedBy,
      kind: checked.kind,
      message,
    };
    this.sent.set(receipt.wamid, receipt);
    this.recordReceipt(req, receipt);
    if (this.opts.autoStatuses) this.scheduleAutoStatuses(receipt.wamid);
    return {
      status: 200,
      json: {
        messaging_product: 'whatsapp',
        contacts: [addressedBy === 'to' ? { input, wa_id: waId } : { input, user_id: waId }],
        messages: [{ id: receipt.wamid }],
      },
    };
  }

  /** GET /{Version}/{Phone-Number-ID}: path parameters checked against the spec's patterns. */
  private phoneNumber(req: FakeRequest): FakeResponse {
    const [, version = '', id = ''] = req.path.split('/');
    if (!/^v[0-9]+\.[0-9]+$/.test(version))
      throw refuse(100, `spec: Version ${version}`, {
        status: 400,
        message: "Invalid version format. Use format like 'v23.0'",
      });
    if (!/^[0-9]+$/.test(id))
      throw refuse(100, `spec: Phone-Number-ID ${id}`, {
        status: 400,
        message: 'Invalid phone number ID format. Must be numeric.',
      });
    if (version !== this.apiVersion)
      throw refuse(100, `no route ${req.method} ${req.path}`, {
        message: `Unsupported get request for version ${version}`,
      });
    if (id !== this.opts.phoneNumberId) throw refuse(803, `unknown phone number ${id}`);
    const extra = (req.query.get('fields') ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    const unknown = extra.find((f) => !PHONE_DEFAULT_FIELDS.includes(f) && !(f in PHONE_EXTRA_FIELDS));
    if (unknown)
      throw refuse(100, `unknown field ${unknown}`, {
        status: 400,
        message: `(#100) Tried accessing nonexisting field (${unknown})`,
      });
    const display = this.opts.displayPhoneNumber ?? DEFAULT_DISPLAY_PHONE_NUMBER;
    const json: Record<string, string> = {
      id,
      display_phone_number: display.startsWith('+') ? display : `+${display}`,
      verified_name: this.opts.verifiedName ?? 'MUPZAOS Test',
      quality_rating: this.opts.qualityRating ?? 'GREEN',
    };
    for (const f of extra) if (f in PHONE_EXTRA_FIELDS) json[f] = PHONE_EXTRA_FIELDS[f]!;
    return { status: 200, json };
  }

  private scheduleAutoStatuses(wamid: string): void {
    const delay = this.opts.autoStatusDelayMs ?? 10;
    const steps: WhatsAppStatus[] = ['sent', 'delivered', 'read'];
    const next = (i: number) => {
      const status = steps[i];
      if (status === undefined || this.closed || !this.webhookUrl) return;
      const t = setTimeout(() => {
        this.timers.delete(t);
        // Sequential on purpose: each status is posted after the previous one was answered.
        void this.sendStatus(wamid, status).then(() => next(i + 1));
      }, delay);
      this.timers.add(t);
    };
    next(0);
  }

  private metadata() {
    return {
      phoneNumberId: this.opts.phoneNumberId,
      ...(this.opts.displayPhoneNumber !== undefined
        ? { displayPhoneNumber: this.opts.displayPhoneNumber }
        : {}),
      ...(this.opts.wabaId !== undefined ? { wabaId: this.opts.wabaId } : {}),
    };
  }

  private requireWebhookUrl(): string {
    if (!this.webhookUrl) throw new Error('whatsapp fake: no webhookUrl configured');
    return this.webhookUrl;
  }

  private async postSigned(payload: unknown): Promise<WebhookDelivery> {
    const url = this.requireWebhookUrl();
    const raw = toMetaJson(payload);
    const delivery = await postWebhook(
      url,
      raw,
      {
        'x-hub-signature-256': signWhatsAppBody(raw, this.opts.appSecret),
        'user-agent': 'facebookexternalua',
      },
      this.now(),
    );
    this.webhookDeliveries.push(delivery);
    return delivery;
  }
}

export async function startWhatsAppFake(options: WhatsAppFakeOptions): Promise<WhatsAppFake> {
  return new WhatsAppFake(options).listen();
}

/** A GraphAPIError response in Meta's shape. */
export function graphError(
  code: WhatsAppErrorCode,
  o: { status?: number; details?: string; message?: string } = {},
): FakeResponse {
  const e = ERRORS[code];
  return {
    status: o.status ?? e.status,
    json: {
      error: {
        message: o.message ?? `(#${code}) ${e.title}`,
        type: e.type ?? 'OAuthException',
        code,
        error_data: { messaging_product: 'whatsapp', details: o.details ?? e.details },
        fbtrace_id: `A${randomBytes(12).toString('base64url')}`,
      },
    },
  };
}

function refuse(
  code: WhatsAppErrorCode,
  reason: string,
  o: { status?: number; details?: string; message?: string } = {},
): FakeRefusal {
  return new FakeRefusal(graphError(code, o), reason, code);
}

function digits(s: string): string {
  return s.replace(/\D/g, '');
}

/** A customer's key in the fake's window table: phone digits, or the BSUID as given. */
function userKey(s: string): string {
  return isBsuid(s) ? s : digits(s);
}

type WebhookMetadataOptionsLike = { phoneNumberId: string; displayPhoneNumber?: string; wabaId?: string };
