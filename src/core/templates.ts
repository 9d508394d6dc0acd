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
  required: readonly string[];
  render(data: Record<string, unknown>, ctx: { locale: Locale; currency: string; timeZone: string }): RenderedTemplate;
}

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

const TEMPLATES: Record<string, TemplateDef> = {
  daily_owner_report: {
    required: ['date', 'revenue', 'orders'],
    render(d, { locale, currency, timeZone }) {
      const date = formatDate(new Date(str(d.date)), timeZone, locale);
      const revenue = formatMoney(num(d.revenue), currency, locale);
      const orders = num(d.orders);
      const t = {
        az: { title: 'Gündəlik sahib hesabatı', body: `${date}: ${orders} sifariş, gəlir ${revenue}.` },
        ru: { title: 'Ежедневный отчёт владельцу', body: `${date}: заказов ${orders}, выручка ${revenue}.` },
        en: { title: 'Daily owner report', body: `${date}: ${orders} orders, revenue ${revenue}.` },
      }[locale];
      return { title: t.title, subject: t.title, body: t.body };
    },
  },
  kitchen_ticket_ready: {
    required: ['ticket'],
    render(d, { locale }) {
      const ticket = str(d.ticket);
      const table = d.table === undefined ? '' : str(d.table);
      const t = {
        az: { title: 'Mətbəx sifarişi hazırdır', body: `Sifariş ${ticket} hazırdır${table ? `, masa ${table}` : ''}.` },
        ru: { title: 'Заказ с кухни готов', body: `Заказ ${ticket} готов${table ? `, стол ${table}` : ''}.` },
        en: { title: 'Kitchen ticket ready', body: `Ticket ${ticket} is ready${table ? ` for table ${table}` : ''}.` },
      }[locale];
      return { title: t.title, subject: t.title, body: t.body };
    },
  },
  telegram_link_confirmed: {
    required: [],
    render(_d, { locale }) {
      const t = {
        az: 'Telegram hesabınız MUPZAOS sahib bildirişlərinə qoşuldu.',
        ru: 'Ваш Telegram подключён к уведомлениям владельца MUPZAOS.',
        en: 'Your Telegram chat is now linked to MUPZAOS owner notifications.',
      }[locale];
      return { title: 'MUPZAOS', subject: 'MUPZAOS', body: t };
    },
  },
};

export const TEMPLATE_IDS = Object.keys(TEMPLATES);

export function renderTemplate(
  id: string,
  data: Record<string, unknown>,
  ctx: { locale: Locale; currency: string; timeZone: string },
): RenderedTemplate {
  const def = TEMPLATES[id];
  if (!def) throw new AppError('unknown_template', `Unknown template "${id}". Known: ${TEMPLATE_IDS.join(', ')}.`);
  const missing = def.required.filter((k) => data[k] === undefined || data[k] === null || data[k] === '');
  if (missing.length) {
    throw new AppError('template_data_invalid', `Template "${id}" needs data fields: ${missing.join(', ')}.`);
  }
  return def.render(data, ctx);
}
