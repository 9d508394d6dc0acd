/**
 * Reads a Telegram Bot API Update (PROVIDERS.md section 4) into what the inbound store keeps. Pure.
 * Ids may exceed 32 bits (up to 52 significant bits), so they are carried as decimal strings.
 */

export interface TgInbound {
  updateId: string;
  /** message, edited_message, channel_post, edited_channel_post, callback_query, or another key. */
  kind: string;
  chatId: string | null;
  senderId: string | null;
  senderName: string | null;
  languageCode: string | null;
  /** command (a leading bot_command), text, callback_query, photo, … or other. */
  type: string;
  text: string | null;
  sentAt: Date | null;
}

const obj = (v: unknown): Record<string, unknown> | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
const id = (v: unknown): string | null =>
  typeof v === 'number' && Number.isSafeInteger(v)
    ? String(v)
    : typeof v === 'string' && /^-?\d{1,20}$/.test(v)
      ? v
      : null;
const str = (v: unknown, max = 4096): string | null =>
  typeof v === 'string' && v.length > 0 ? v.slice(0, max) : null;

const MESSAGE_KINDS = [
  'message',
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'business_message',
] as const;
const MEDIA = [
  'photo',
  'document',
  'video',
  'voice',
  'audio',
  'sticker',
  'animation',
  'video_note',
  'contact',
  'location',
  'venue',
  'poll',
  'dice',
];

/** The update_id of a webhook body, or null when the body is not an Update. */
export function updateIdOf(body: unknown): string | null {
  const u = obj(body);
  const v = u?.update_id;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : null;
}

export function parseTelegramUpdate(body: unknown): TgInbound | null {
  const u = obj(body);
  const updateId = updateIdOf(body);
  if (!u || !updateId) return null;
  const base = {
    updateId,
    senderId: null,
    senderName: null,
    languageCode: null,
    chatId: null,
    text: null,
    sentAt: null,
  };
  for (const kind of MESSAGE_KINDS) {
    const m = obj(u[kind]);
    if (!m) continue;
    const from = obj(m.from);
    const chat = obj(m.chat);
    const text = str(m.text) ?? str(m.caption);
    const entities = Array.isArray(m.entities) ? m.entities.map(obj) : [];
    const command =
      typeof m.text === 'string' && entities.some((e) => e?.type === 'bot_command' && e.offset === 0);
    return {
      ...base,
      kind,
      chatId: id(chat?.id),
      senderId: id(from?.id) ?? id(chat?.id),
      senderName: str(from?.first_name, 200) ?? str(chat?.title, 200),
      languageCode: str(from?.language_code, 16),
      type: command
        ? 'command'
        : typeof m.text === 'string'
          ? 'text'
          : (MEDIA.find((k) => k in m) ?? 'other'),
      text,
      sentAt: typeof m.date === 'number' && Number.isSafeInteger(m.date) ? new Date(m.date * 1000) : null,
    };
  }
  const cb = obj(u.callback_query);
  if (cb) {
    // A press on an inline keyboard button: the button's data is recorded like a message text.
    const from = obj(cb.from);
    return {
      ...base,
      kind: 'callback_query',
      chatId: id(obj(obj(cb.message)?.chat)?.id) ?? id(from?.id),
      senderId: id(from?.id),
      senderName: str(from?.first_name, 200),
      languageCode: str(from?.language_code, 16),
      type: 'callback_query',
      text: str(cb.data, 256),
    };
  }
  const kind = Object.keys(u).find((k) => k !== 'update_id') ?? 'unknown';
  return { ...base, kind: kind.slice(0, 40), type: 'other' };
}

/** `/start <payload>` as Telegram delivers a deep link; payload null for a bare /start. */
const START_RE = /^\/start(?:@\w+)?(?:\s+(\S+))?\s*$/;
/** Deep-link payloads are 1-64 of A-Z a-z 0-9 _ - (Telegram's rule). */
export const START_PAYLOAD_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function startPayload(text: string | null): { payload: string | null } | null {
  if (text === null) return null;
  const m = START_RE.exec(text.trim());
  if (!m) return null;
  return { payload: m[1] ?? null };
}
