/**
 * Azerbaijani and Russian translations of the provider contracts and adapters the service lists
 * (GET /api/v1/readiness: name, provider, note by id). English is never kept here: the page shows
 * the server's own wording in English, and falls back to it for any id or field missing below.
 * catalog.test.ts checks every contract and adapter in src/core/channels.ts has a translation.
 */
export interface CatalogText {
  name: string;
  provider: string;
  note: string;
}

export type CatalogLang = 'az' | 'ru';

export const CONTRACT_TRANSLATIONS: Record<CatalogLang, Record<string, CatalogText>> = {
  az: {
    otp_sms: {
      name: 'OTP SMS',
      provider: 'Twilio Verify və ya Firebase telefon girişi',
      note: 'OTP yalnız onlayndır və POS, ofisiant, mətbəx və ya printer LAN işini heç vaxt bloklamamalıdır.',
    },
    whatsapp: {
      name: 'WhatsApp',
      provider: 'Meta WhatsApp Cloud API',
      note: 'Əvvəlcə növbə və audit; real göndəriş provayder env-i və restoranın açıq razılığını tələb edir.',
    },
    telegram: {
      name: 'Telegram',
      provider: 'Telegram Bot API',
      note: 'Bot tokeni və ya chat id heç vaxt göstərilmir; yalnız qurulub/qurulmayıb göstərilir.',
    },
    email: {
      name: 'E-poçt',
      provider: 'SMTP / Nodemailer ilə uyğun provayder',
      note: 'SMTP məlumatları serverdə qalır; brauzer yalnız çatdırılma statusunu görür.',
    },
    in_app: {
      name: 'Tətbiqdaxili bildiriş',
      provider: 'MUPZAOS bildiriş mərkəzi',
      note: 'Tətbiqdaxili bildirişlər LAN üçün təhlükəsizdir və yerli növbədə saxlanıla bilər.',
    },
  },
  ru: {
    otp_sms: {
      name: 'OTP SMS',
      provider: 'Twilio Verify или вход по телефону Firebase',
      note: 'OTP работает только онлайн и никогда не должен блокировать работу POS, официантов, кухни или принтеров в локальной сети.',
    },
    whatsapp: {
      name: 'WhatsApp',
      provider: 'Meta WhatsApp Cloud API',
      note: 'Сначала очередь и аудит; реальная отправка требует env провайдера и явной политики ресторана.',
    },
    telegram: {
      name: 'Telegram',
      provider: 'Telegram Bot API',
      note: 'Токен бота и chat id никогда не показываются; только «настроено: да/нет».',
    },
    email: {
      name: 'E-mail',
      provider: 'SMTP / провайдер, совместимый с Nodemailer',
      note: 'Учётные данные SMTP остаются на сервере; браузер видит только статус доставки.',
    },
    in_app: {
      name: 'Уведомление в приложении',
      provider: 'Центр уведомлений MUPZAOS',
      note: 'Уведомления в приложении безопасны для локальной сети и могут ставиться в локальную очередь.',
    },
  },
};

export const ADAPTER_TRANSLATIONS: Record<CatalogLang, Record<string, CatalogText>> = {
  az: {
    twilio_verify: {
      name: 'Twilio Verify ilə OTP SMS',
      provider: 'Twilio Verify',
      note: 'OTP yalnız onlayn qalır və LAN-dakı kassir, ofisiant, mətbəx və ya printer işini bloklaya bilməz.',
    },
    firebase_auth: {
      name: 'Firebase telefon girişi ilə OTP SMS',
      provider: 'Firebase Auth',
      note: 'Yalnız açıq Firebase konfiqurasiya adları modelləşdirilir; xidmət hesabı sirləri serverdə və Git-dən kənarda qalır.',
    },
    whatsapp_cloud: {
      name: 'WhatsApp Cloud API',
      provider: 'Meta Graph API',
      note: 'Real göndəriş növbə auditi, restoranın razılığı, provayder env-i və açıq şəkildə QA olmayan iş rejimi tələb edir.',
    },
    telegram_bot: {
      name: 'Telegram Bot API',
      provider: 'Telegram',
      note: 'Bot tokeni və webhook sirri heç vaxt qaytarılmır; hazırlıq yalnız qurulmuş/çatışmayan env adlarını göstərir.',
    },
    smtp: {
      name: 'SMTP ilə e-poçt',
      provider: 'SMTP / Nodemailer ilə uyğun',
      note: 'SMTP məlumatları serverdə qalır; brauzer yalnız çatdırılma statusunu görür.',
    },
    lan_hub: {
      name: 'Tətbiqdaxili LAN bildirişi',
      provider: 'MUPZAOS yerli hab',
      note: 'LAN bildirişləri oflayn işləyir və xarici provayderlər olmadan da əlçatandır.',
    },
  },
  ru: {
    twilio_verify: {
      name: 'OTP SMS через Twilio Verify',
      provider: 'Twilio Verify',
      note: 'OTP остаётся только онлайн и не может блокировать работу кассира, официантов, кухни или принтеров в локальной сети.',
    },
    firebase_auth: {
      name: 'OTP SMS через вход по телефону Firebase',
      provider: 'Firebase Auth',
      note: 'Моделируются только публичные имена конфигурации Firebase; секреты сервисного аккаунта остаются на сервере и вне Git.',
    },
    whatsapp_cloud: {
      name: 'WhatsApp Cloud API',
      provider: 'Meta Graph API',
      note: 'Реальная отправка требует аудита очереди, согласия ресторана, env провайдера и явно заданной среды, отличной от QA.',
    },
    telegram_bot: {
      name: 'Telegram Bot API',
      provider: 'Telegram',
      note: 'Токен бота и секрет вебхука никогда не возвращаются; готовность показывает только имена настроенных и отсутствующих env.',
    },
    smtp: {
      name: 'E-mail через SMTP',
      provider: 'SMTP / совместимый с Nodemailer',
      note: 'Учётные данные SMTP остаются на сервере; браузер видит только статус доставки.',
    },
    lan_hub: {
      name: 'Уведомление в локальной сети',
      provider: 'Локальный хаб MUPZAOS',
      note: 'Уведомления в локальной сети работают офлайн и доступны без внешних провайдеров.',
    },
  },
};

/**
 * What a contract or adapter card shows: in English exactly the server's text; in az/ru the
 * translation of each field, or the server's text for a field not translated yet.
 */
export function catalogText(
  kind: 'contract' | 'adapter',
  lang: 'az' | 'ru' | 'en',
  id: string,
  server: CatalogText,
): CatalogText {
  if (lang === 'en') return { name: server.name, provider: server.provider, note: server.note };
  const table = kind === 'contract' ? CONTRACT_TRANSLATIONS : ADAPTER_TRANSLATIONS;
  // Own entries only: the id is the server's word, and "constructor" must not read the prototype.
  const tr = Object.hasOwn(table[lang], id) ? table[lang][id] : undefined;
  return {
    name: tr?.name || server.name,
    provider: tr?.provider || server.provider,
    note: tr?.note || server.note,
  };
}
