import { az } from './az.ts';
import { en, type Dictionary, type MessageKey } from './en.ts';
import { ru } from './ru.ts';

export type { MessageKey } from './en.ts';

export const LANGS = ['az', 'ru', 'en'] as const;
export type Lang = (typeof LANGS)[number];

export const DICTIONARIES: Record<Lang, Dictionary> = { az, ru, en };

/** Each language named in itself, as language pickers conventionally do. */
export const LANG_NAMES: Record<Lang, string> = { az: 'Azərbaycanca', ru: 'Русский', en: 'English' };

const INTL_LOCALE: Record<Lang, string> = { az: 'az-Latn-AZ', ru: 'ru-RU', en: 'en-GB' };

export type Params = Record<string, string | number>;

/** A tenant locale like "az-AZ" or "ru" → one of our languages; anything else → fallback. */
export function toLang(value: string | null | undefined, fallback: Lang = 'az'): Lang {
  const v = (value ?? '').slice(0, 2).toLowerCase();
  return (LANGS as readonly string[]).includes(v) ? (v as Lang) : fallback;
}

export function intlLocale(lang: Lang): string {
  return INTL_LOCALE[lang];
}

export function translate(lang: Lang, key: MessageKey, params?: Params): string {
  const text = DICTIONARIES[lang][key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name];
    return v === undefined ? whole : String(v);
  });
}

/** True when `key` is a dictionary key (for keys built from API values such as statuses). */
export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

/**
 * Some browsers ship ICU without data for some locales (Debian's Chromium has none for az, for
 * example): Intl then formats with the root locale ("2025 M02 1", "AZN 1,234.50", "Azerbaijan").
 * We detect that once per language and fall back to numeric, locale-conventional output.
 */
const hasData = new Map<Lang, boolean>();
export function localeHasData(lang: Lang): boolean {
  let v = hasData.get(lang);
  if (v === undefined) {
    const month = new Intl.DateTimeFormat(INTL_LOCALE[lang], { month: 'long', timeZone: 'UTC' }).format(
      Date.UTC(2020, 0, 15),
    );
    v = !/^M\d+$/.test(month);
    hasData.set(lang, v);
  }
  return v;
}

/** dd.MM.yyyy, HH:mm:ss in `timeZone` (the numeric form used in az and ru). */
export function numericDateTime(d: Date, lang: Lang, timeZone: string): string {
  const parts = new Intl.DateTimeFormat(INTL_LOCALE[lang], {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZone,
  }).formatToParts(d);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('day')}.${get('month')}.${get('year')}, ${get('hour')}:${get('minute')}:${get('second')}`;
}

/** Date and time in the tenant's time zone; unparsable input is shown as received. */
export function formatDateTime(iso: string, lang: Lang, timeZone: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (!localeHasData(lang)) return numericDateTime(d, lang, timeZone);
  return new Intl.DateTimeFormat(INTL_LOCALE[lang], {
    dateStyle: 'medium',
    timeStyle: 'medium',
    timeZone,
  }).format(d);
}

/** Known symbols for when the locale data is missing (CLDR: AZN is ₼ in az and, narrow, in ru). */
const SYMBOLS: Record<string, string> = { AZN: '₼' };

/**
 * An amount in the panel language: az "1.845,50 ₼", ru "1 845,50 ₼" (the narrow symbol: ru's
 * default symbol for AZN is the code), en "AZN 1,845.50" (the en-GB default).
 */
export function formatMoney(amount: number, currency: string, lang: Lang): string {
  const nf = new Intl.NumberFormat(INTL_LOCALE[lang], {
    style: 'currency',
    currency,
    currencyDisplay: lang === 'en' ? 'symbol' : 'narrowSymbol',
  });
  if (localeHasData(lang)) return nf.format(amount);
  return fallbackMoney(nf.formatToParts(amount), currency, lang);
}

/** "1.234,50 ₼" (az) or "1 234,50 ₼" (ru): the local convention, built from the root locale's parts. */
export function fallbackMoney(parts: Intl.NumberFormatPart[], currency: string, lang: Lang = 'az'): string {
  if (lang === 'en') return parts.map((p) => p.value).join('');
  const map: Partial<Record<Intl.NumberFormatPartTypes, string>> = {
    group: lang === 'ru' ? '\u00a0' : '.',
    decimal: ',',
  };
  const num = parts
    .filter((p) => p.type !== 'currency' && p.type !== 'literal')
    .map((p) => map[p.type] ?? p.value)
    .join('');
  return `${num}\u00a0${SYMBOLS[currency] ?? currency}`;
}

/** The country's name: from the dictionaries for the markets we serve, else from Intl. */
export function countryName(code: string, lang: Lang): string {
  const key = `country.${code}`;
  if (isMessageKey(key)) return translate(lang, key);
  try {
    return new Intl.DisplayNames([INTL_LOCALE[lang]], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}
