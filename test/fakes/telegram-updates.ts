/**
 * Update payloads as Telegram posts them to a webhook (PROVIDERS.md section 4; structure per
 * api.json Update/Message/User/Chat/MessageEntity, values made up).
 */

export interface StartUpdateOptions {
  updateId: number;
  chatId: number;
  /** Full message text, e.g. "/start ord_42_tbl7". */
  text: string;
  messageId?: number;
  /** Epoch seconds; default 1750000000. */
  date?: number;
  firstName?: string;
  languageCode?: string;
}

export interface TelegramUpdate {
  update_id: number;
  message: {
    message_id: number;
    date: number;
    from: { id: number; is_bot: false; first_name: string; language_code?: string };
    chat: { id: number; type: 'private'; first_name: string };
    text: string;
    entities?: { offset: number; length: number; type: 'bot_command' }[];
  };
}

/** A private-chat message Update; a leading /command gets its bot_command entity like Telegram adds. */
export function buildStartUpdate(o: StartUpdateOptions): TelegramUpdate {
  const firstName = o.firstName ?? 'Ana';
  const command = /^\/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?/.exec(o.text)?.[0];
  return {
    update_id: o.updateId,
    message: {
      message_id: o.messageId ?? 1,
      date: o.date ?? 1_750_000_000,
      from: { id: o.chatId, is_bot: false, first_name: firstName, language_code: o.languageCode ?? 'en' },
      chat: { id: o.chatId, type: 'private', first_name: firstName },
      text: o.text,
      ...(command ? { entities: [{ offset: 0, length: command.length, type: 'bot_command' as const }] } : {}),
    },
  };
}
