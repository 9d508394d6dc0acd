import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import {
  formatDateTime,
  formatMoney,
  isMessageKey,
  toLang,
  translate,
  type Lang,
  type MessageKey,
  type Params,
} from './index.ts';

const STORAGE_KEY = 'mupza.lang';
const DEFAULT_TIME_ZONE = 'Asia/Baku';

export interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t(key: MessageKey, params?: Params): string;
  /** Translates `key` when the dictionaries know it, else shows `fallback` (text from the API). */
  tOr(key: string, fallback: string): string;
  /** Translates `prefix + value` when known (statuses, channels…), else shows the value itself. */
  tv(prefix: string, value: string): string;
  date(iso: string | null | undefined): string;
  money(amount: number, currency: string): string;
}

const Ctx = createContext<I18n | null>(null);

function storedLang(): Lang | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v ? toLang(v) : null;
  } catch {
    return null;
  }
}

/**
 * Language: the user's explicit choice (kept in localStorage) wins; otherwise the tenant locale
 * once it is known; otherwise Azerbaijani.
 */
export function I18nProvider(props: {
  tenantLocale: string | null;
  timeZone: string | null;
  children: ReactNode;
}) {
  const [chosen, setChosen] = useState<Lang | null>(storedLang);
  const lang: Lang = chosen ?? toLang(props.tenantLocale);
  const timeZone = props.timeZone ?? DEFAULT_TIME_ZONE;

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${translate(lang, 'app.brand')} — ${translate(lang, 'app.title')}`;
  }, [lang]);

  const setLang = useCallback((next: Lang) => {
    setChosen(next);
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Storage may be disabled; the choice then lasts for this page only.
    }
  }, []);

  const value = useMemo<I18n>(
    () => ({
      lang,
      setLang,
      t: (key, params) => translate(lang, key, params),
      tOr: (key, fallback) => (isMessageKey(key) ? translate(lang, key) : fallback),
      tv: (prefix, v) => {
        const key = prefix + v;
        return isMessageKey(key) ? translate(lang, key) : v;
      },
      date: (iso) => (iso ? formatDateTime(iso, lang, timeZone) : translate(lang, 'value.none')),
      money: (amount, currency) => formatMoney(amount, currency, lang),
    }),
    [lang, setLang, timeZone],
  );
  return <Ctx.Provider value={value}>{props.children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
