import {
  FakeRefusal,
  HttpFake,
  isPlainObject,
  parseForm,
  parseJson,
  postWebhook,
  type FakeRequest,
  type FakeResponse,
  type WebhookDelivery,
} from './http-fake-base.ts';
import { validateTelegramParams } from './telegram-params.ts';
import { parseTelegramText, telegramTextLength } from './telegram-text.ts';
import { TokenBucket } from './token-bucket.ts';

export { buildStartUpdate, type StartUpdateOptions, type TelegramUpdate } from './telegram-updates.ts';

/**
 * Fake Telegram Bot API (PROVIDERS.md section 4): /bot<token>/<method> over GET or POST with JSON or
 * form bodies, params checked against api.json, sendMessage text rules, flood control with token
 * buckets, and webhook registration plus Update delivery with the secret-token header.
 */

export interface TelegramFakeOptions {
  token: string;
  now?: () => number;
  /** Per-chat refill rate (Telegram FAQ: about 1 message/s per chat). Default 1. */
  perChatPerSecond?: number;
  /** Per-chat burst ("short bursts allowed"). Default 3. */
  perChatBurst?: number;
  /** Global refill rate (Telegram FAQ: about 30 messages/s in bulk). Default 30. */
  globalPerSecond?: number;
  /** Global burst. Default = globalPerSecond. */
  globalBurst?: number;
  /** Accept http://127.0.0.1 webhook URLs (Telegram itself requires HTTPS). */
  allowHttpWebhook?: boolean;
  botUsername?: string;
}

export type TelegramErrorCode = 400 | 401 | 403 | 409 | 429 | 500;

export interface TelegramForcedError {
  code: TelegramErrorCode;
  description?: string;
  /** For 429: parameters.retry_after in seconds (default 3). */
  retryAfter?: number;
}

const DEFAULT_DESCRIPTIONS: Record<TelegramErrorCode, string> = {
  400: 'Bad Request: chat not found',
  401: 'Unauthorized',
  403: 'Forbidden: bot was blocked by the user',
  409: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  429: 'Too Many Requests: retry after 3',
  500: 'Internal Server Error',
};

export interface TelegramMessage {
  message_id: number;
  from: { id: number; is_bot: true; first_name: string; username: string };
  date: number;
  chat: { id: number; type: 'private' | 'group' | 'supergroup' | 'channel'; username?: string };
  text: string;
}

export interface TelegramReceiptBody {
  method: 'sendMessage';
  /** Params after normalisation to JSON types (form strings turned into numbers, booleans, objects). */
  params: Record<string, unknown>;
  message: TelegramMessage;
}

export interface TelegramWebhookRegistration {
  url: string;
  secretToken?: string;
  maxConnections?: number;
  allowedUpdates?: string[];
}

const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const METHODS = ['sendMessage', 'getMe', 'setWebhook', 'getWebhookInfo', 'deleteWebhook'] as const;
type Method = (typeof METHODS)[number];

export class TelegramFake extends HttpFake<TelegramReceiptBody, TelegramForcedError> {
  readonly webhookDeliveries: WebhookDelivery[] = [];
  private registration: TelegramWebhookRegistration | undefined;
  private readonly global: TokenBucket;
  private readonly chats = new Map<string, TokenBucket>();
  private readonly nextMessageId = new Map<string, number>();
  private readonly botId: number;

  constructor(private readonly opts: TelegramFakeOptions) {
    super(opts);
    const perSecond = opts.globalPerSecond ?? 30;
    this.global = new TokenBucket(opts.globalBurst ?? perSecond, perSecond, this.now);
    this.botId = Number(/^(\d+):/.exec(opts.token)?.[1] ?? 1);
  }

  /** Base URL for a method, e.g. `${fake.url}/bot<token>/sendMessage`. */
  methodUrl(method: string): string {
    return `${this.url}/bot${this.opts.token}/${method}`;
  }

  /** The webhook registered with setWebhook, if any. */
  get webhook(): TelegramWebhookRegistration | undefined {
    return this.registration ? { ...this.registration } : undefined;
  }

  /** The next `times` authorised calls answer this error in Telegram's envelope. */
  forceError(code: TelegramErrorCode, times = 1, options: Omit<TelegramForcedError, 'code'> = {}): void {
    if (!(code in DEFAULT_DESCRIPTIONS))
      throw new Error(`telegram fake: unsupported forced error ${String(code)}`);
    this.queueForcedError({ code, ...options }, times);
  }

  /** POSTs an Update to the registered webhook with X-Telegram-Bot-Api-Secret-Token (when set). */
  async postUpdate(update: unknown): Promise<WebhookDelivery> {
    const hook = this.registration;
    if (!hook) throw new Error('telegram fake: no webhook registered (call setWebhook first)');
    const headers: Record<string, string> = {};
    if (hook.secretToken !== undefined) headers['x-telegram-bot-api-secret-token'] = hook.secretToken;
    const delivery = await postWebhook(hook.url, JSON.stringify(update), headers, this.now());
    this.webhookDeliveries.push(delivery);
    return delivery;
  }

  protected serverErrorResponse(): FakeResponse {
    return envelopeError(500, DEFAULT_DESCRIPTIONS[500]);
  }

  protected rateLimitResponse(retryAfterSeconds: number): FakeResponse {
    return floodError(retryAfterSeconds);
  }

  protected handle(req: FakeRequest): FakeResponse {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.path);
    if (!m || m[1] !== this.opts.token) {
      throw new FakeRefusal(
        envelopeError(401, 'Unauthorized'),
        m ? 'bad token' : 'no route (path not /bot<token>/<method>)',
        401,
      );
    }
    // Method names are case-insensitive (Bot API docs).
    const method = METHODS.find((x) => x.toLowerCase() === (m[2] ?? '').toLowerCase());
    if (!method) throw new FakeRefusal(envelopeError(404, 'Not Found'), `method ${m[2] ?? ''}`, 404);
    if (req.method !== 'GET' && req.method !== 'POST')
      throw refuse(405, `Method Not Allowed`, `http ${req.method}`);
    const forced = this.takeForcedError();
    if (forced) {
      if (forced.code === 429)
        throw new FakeRefusal(floodError(forced.retryAfter ?? 3, forced.description), 'forced error', 429);
      throw refuse(forced.code, forced.description ?? DEFAULT_DESCRIPTIONS[forced.code], 'forced error');
    }
    const raw = this.readParams(req);
    const checked = validateTelegramParams(method, raw);
    if (!checked.ok)
      throw refuse(400, checked.description, `params: ${checked.field ?? ''} ${checked.description}`);
    return this.dispatch(method, checked.params, req);
  }

  private readParams(req: FakeRequest): Record<string, unknown> {
    const params: Record<string, unknown> = Object.fromEntries(req.query);
    if (req.rawBody.length === 0) return params;
    if (req.contentType === 'application/json') {
      const body = parseJson(req.rawBody);
      if (!isPlainObject(body))
        throw refuse(400, "Bad Request: can't parse JSON object", 'body is not a JSON object');
      return { ...params, ...body };
    }
    if (req.contentType === 'application/x-www-form-urlencoded') {
      const form = parseForm(req.rawBody);
      for (const [k, v] of Object.entries(form)) params[k] = Array.isArray(v) ? v[v.length - 1] : v;
      return params;
    }
    throw refuse(400, 'Bad Request: unsupported content type', `content-type ${req.contentType || '(none)'}`);
  }

  private dispatch(method: Method, params: Record<string, unknown>, req: FakeRequest): FakeResponse {
    switch (method) {
      case 'sendMessage':
        return this.sendMessage(params, req);
      case 'getMe':
        return ok({
          id: this.botId,
          is_bot: true,
          first_name: 'MUPZAOS Fake Bot',
          username: this.username(),
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        });
      case 'setWebhook':
        return this.setWebhook(params);
      case 'getWebhookInfo': {
        const hook = this.registration;
        return ok({
          url: hook?.url ?? '',
          has_custom_certificate: false,
          pending_update_count: 0,
          ...(hook?.maxConnections !== undefined ? { max_connections: hook.maxConnections } : {}),
          ...(hook?.allowedUpdates !== undefined ? { allowed_updates: hook.allowedUpdates } : {}),
        });
      }
      case 'deleteWebhook':
        this.registration = undefined;
        return ok(true, 'Webhook was deleted');
    }
  }

  private sendMessage(params: Record<string, unknown>, req: FakeRequest): FakeResponse {
    const parsed = parseTelegramText(
      String(params.text),
      typeof params.parse_mode === 'string' ? params.parse_mode : undefined,
    );
    if (!parsed.ok) throw refuse(400, `Bad Request: can't parse entities: ${parsed.error}`, 'entities');
    // Telegram trims surrounding whitespace; what is left must be 1-4096 characters.
    const text = parsed.text.trim();
    if (text === '') throw refuse(400, 'Bad Request: message text is empty', 'empty text');
    if (telegramTextLength(text) > 4096) throw refuse(400, 'Bad Request: message is too long', 'text > 4096');

    const chatKey = String(params.chat_id);
    const chatBucket = this.chatBucket(chatKey);
    const waitMs = Math.max(this.global.waitMs(), chatBucket.waitMs());
    if (waitMs > 0) {
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      throw new FakeRefusal(floodError(retryAfter), `flood control (${chatKey})`, 429);
    }
    this.global.take();
    chatBucket.take();

    const messageId = (this.nextMessageId.get(chatKey) ?? 0) + 1;
    this.nextMessageId.set(chatKey, messageId);
    const message: TelegramMessage = {
      message_id: messageId,
      from: { id: this.botId, is_bot: true, first_name: 'MUPZAOS Fake Bot', username: this.username() },
      date: Math.floor(this.now() / 1000),
      chat: chatOf(params.chat_id),
      text,
    };
    this.recordReceipt(req, { method: 'sendMessage', params, message });
    return ok(message);
  }

  private setWebhook(params: Record<string, unknown>): FakeResponse {
    const url = String(params.url);
    if (url === '') {
      this.registration = undefined;
      return ok(true, 'Webhook was deleted');
    }
    const secret = params.secret_token;
    if (secret !== undefined && (typeof secret !== 'string' || !SECRET_TOKEN.test(secret))) {
      throw refuse(400, 'Bad Request: secret token contains unallowed characters', 'bad secret_token');
    }
    const max = params.max_connections;
    if (max !== undefined && (typeof max !== 'number' || max < 1 || max > 100)) {
      throw refuse(400, 'Bad Request: bad webhook: max_connections must be 1-100', 'bad max_connections');
    }
    if (!this.webhookUrlAllowed(url)) {
      throw refuse(
        400,
        'Bad Request: bad webhook: An HTTPS URL must be provided for webhook',
        `webhook url ${url}`,
      );
    }
    this.registration = {
      url,
      ...(typeof secret === 'string' ? { secretToken: secret } : {}),
      ...(typeof max === 'number' ? { maxConnections: max } : {}),
      ...(Array.isArray(params.allowed_updates)
        ? { allowedUpdates: params.allowed_updates.map(String) }
        : {}),
    };
    return ok(true, 'Webhook was set');
  }

  private webhookUrlAllowed(url: string): boolean {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    if (u.protocol === 'https:') return true;
    return this.opts.allowHttpWebhook === true && u.protocol === 'http:' && u.hostname === '127.0.0.1';
  }

  private chatBucket(chat: string): TokenBucket {
    let b = this.chats.get(chat);
    if (!b) {
      const perSecond = this.opts.perChatPerSecond ?? 1;
      b = new TokenBucket(this.opts.perChatBurst ?? 3, perSecond, this.now);
      this.chats.set(chat, b);
    }
    return b;
  }

  private username(): string {
    return this.opts.botUsername ?? 'mupzaos_fake_bot';
  }
}

export async function startTelegramFake(options: TelegramFakeOptions): Promise<TelegramFake> {
  return new TelegramFake(options).listen();
}

function ok(result: unknown, description?: string): FakeResponse {
  return { status: 200, json: { ok: true, result, ...(description ? { description } : {}) } };
}

function envelopeError(code: number, description: string): FakeResponse {
  return { status: code, json: { ok: false, error_code: code, description } };
}

function floodError(retryAfter: number, description?: string): FakeResponse {
  return {
    status: 429,
    json: {
      ok: false,
      error_code: 429,
      description: description ?? `Too Many Requests: retry after ${retryAfter}`,
      parameters: { retry_after: retryAfter },
    },
  };
}

function refuse(code: number, description: string, reason: string): FakeRefusal {
  return new FakeRefusal(envelopeError(code, description), reason, code);
}

function chatOf(chatId: unknown): TelegramMessage['chat'] {
  if (typeof chatId === 'string' && chatId.startsWith('@')) {
    // Real channel ids are -100…; derive a stable one from the username.
    let h = 0;
    for (const c of chatId) h = (h * 31 + c.charCodeAt(0)) % 1_000_000_000;
    return { id: -1_000_000_000_000 - h, type: 'channel', username: chatId.slice(1) };
  }
  const id = Number(chatId);
  if (id > 0) return { id, type: 'private' };
  return { id, type: String(id).startsWith('-100') ? 'supergroup' : 'group' };
}
