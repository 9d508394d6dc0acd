import { AppError } from './errors.ts';

/** Locales the product speaks. */
export const LOCALES = ['az', 'ru', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export function toLocale(value: string | null | undefined, fallback: Locale = 'az'): Locale {
  const v = (value ?? '').slice(0, 2).toLowerCase();
  return (LOCALES as readonly string[]).includes(v) ? (v as Locale) : fallback;
}

const INTL_LOCALE: Record<Locale, string> = { az: 'az-Latn-AZ', ru: 'ru-RU', en: 'en-GB' };

export function formatMoney(amount: number, currency: string, locale: Locale): string {
  return new Intl.NumberFormat(INTL_LOCALE[locale], { style: 'currency', currency }).format(amount);
}

export function formatDate(date: Date, timeZone: string, locale: Locale): string {
  return new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'long', timeZone }).format(date);
}

export interface RenderedTemplate {
  title: string;
  subject: string;
  body: string;
}

interface TemplateDef {
  /** What the template is for, in English (the catalogue shows it). */
  description: string;
  required: readonly string[];
  /** Data fields the template uses when given. */
  optional: readonly string[];
  /** Sample data: renders, and the catalogue shows it. */
  example: Readonly<Record<string, unknown>>;
  render(
    data: Record<string, unknown>,
    ctx: { locale: Locale; currency: string; timeZone: string },
  ): RenderedTemplate;
}

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

// A Map, not an object literal: ids come from requests, and a plain object would answer
// "constructor" or "__proto__" from its prototype.
const TEMPLATES = new Map<string, TemplateDef>(
  Object.entries({
    daily_owner_report: {
      description: "The day's revenue and order count, for the owner.",
      required: ['date', 'revenue', 'orders'],
      optional: [],
      example: { date: '2026-11-25', revenue: 1845.5, orders: 132 },
      render(d, { locale, currency, timeZone }) {
        const date = formatDate(new Date(str(d.date)), timeZone, locale);
        const revenue = formatMoney(num(d.revenue), currency, locale);
        const orders = num(d.orders);
        const t = {
          az: { title: 'Gündəlik sahib hesabatı', body: `${date}: ${orders} sifariş, gəlir ${revenue}.` },
          ru: {
            title: 'Ежедневный отчёт владельцу',
            body: `${date}: заказов ${orders}, выручка ${revenue}.`,
          },
          en: { title: 'Daily owner report', body: `${date}: ${orders} orders, revenue ${revenue}.` },
        }[locale];
        return { title: t.title, subject: t.title, body: t.body };
      },
    },
    kitchen_ticket_ready: {
      description: 'A kitchen ticket is ready to serve (table optional).',
      required: ['ticket'],
      optional: ['table'],
      example: { ticket: 'A-17', table: '4' },
      render(d, { locale }) {
        const ticket = str(d.ticket);
        const table = d.table === undefined ? '' : str(d.table);
        const t = {
          az: {
            title: 'Mətbəx sifarişi hazırdır',
            body: `Sifariş ${ticket} hazırdır${table ? `, masa ${table}` : ''}.`,
          },
          ru: {
            title: 'Заказ с кухни готов',
            body: `Заказ ${ticket} готов${table ? `, стол ${table}` : ''}.`,
          },
          en: {
            title: 'Kitchen ticket ready',
            body: `Ticket ${ticket} is ready${table ? ` for table ${table}` : ''}.`,
          },
        }[locale];
        return { title: t.title, subject: t.title, body: t.body };
      },
    },
    telegram_link_confirmed: {
      description: "Confirms that the owner's Telegram chat is linked.",
      required: [],
      optional: [],
      example: {},
      render(_d, { locale }) {
        const t = {
          az: 'Telegram hesabınız MUPZAOS sahib bildirişlərinə qoşuldu.',
          ru: 'Ваш Telegram подключён к уведомлениям владельца MUPZAOS.',
          en: 'Your Telegram chat is now linked to MUPZAOS owner notifications.',
        }[locale];
        return { title: 'MUPZAOS', subject: 'MUPZAOS', body: t };
      },
    },
  } satisfies Record<string, TemplateDef>),
);

export const TEMPLATE_IDS = [...TEMPLATES.keys()];

/** Channels a template renders for: OTP texts are the provider's own, so not otp_sms. */
export const TEMPLATE_CHANNELS = ['whatsapp', 'telegram', 'email', 'in_app'] as const;

export interface TemplateInfo {
  id: string;
  description: string;
  channels: readonly string[];
  locales: readonly Locale[];
  required: readonly string[];
  optional: readonly string[];
  example: { data: Readonly<Record<string, unknown>>; rendered: Record<Locale, RenderedTemplate> };
}

/** The catalogue (GET /api/v1/templates): every template with its fields and a rendered example. */
export function templateCatalogue(ctx: { currency: string; timeZone: string }): TemplateInfo[] {
  return [...TEMPLATES].map(([id, def]) => ({
    id,
    description: def.description,
    channels: TEMPLATE_CHANNELS,
    locales: LOCALES,
    required: def.required,
    optional: def.optional,
    example: {
      data: def.example,
      rendered: Object.fromEntries(
        LOCALES.map((locale) => [locale, def.render(def.example, { ...ctx, locale })]),
      ) as Record<Locale, RenderedTemplate>,
    },
  }));
}

export function renderTemplate(
  id: string,
  data: Record<string, unknown>,
  ctx: { locale: Locale; currency: string; timeZone: string },
): RenderedTemplate {
  const def = TEMPLATES.get(id);
  if (!def) {
    throw new AppError(
      'unknown_template',
      `Unknown template "${id.slice(0, 100)}". Known: ${TEMPLATE_IDS.join(', ')} (GET /api/v1/templates).`,
    );
  }
  // Own fields only: `data` is the caller's object.
  const given = (k: string) => (Object.hasOwn(data, k) ? data[k] : undefined);
  const missing = def.required.filter((k) => given(k) === undefined || given(k) === null || given(k) === '');
  if (missing.length) {
    throw new AppError('template_data_invalid', `Template "${id}" needs data fields: ${missing.join(', ')}.`);
  }
  return def.render(data, ctx);
}
