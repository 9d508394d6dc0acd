import { describe, expect, it } from 'vitest';
import { CHANNELS, FLAG_KEYS, ROLES, STATUSES, SUMMARY_KEYS } from '../types.ts';
import {
  DICTIONARIES,
  LANGS,
  countryName,
  fallbackMoney,
  formatDateTime,
  formatMoney,
  isMessageKey,
  numericDateTime,
  toLang,
  translate,
} from './index.ts';

const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

describe('i18n dictionaries', () => {
  const reference = Object.keys(DICTIONARIES.en).sort();

  it.each(LANGS)('%s has exactly the English key set', (lang) => {
    expect(Object.keys(DICTIONARIES[lang]).sort()).toEqual(reference);
  });

  it.each(LANGS)('%s has no empty values', (lang) => {
    const empty = Object.entries(DICTIONARIES[lang]).filter(([, v]) => v.trim() === '');
    expect(empty).toEqual([]);
  });

  it.each(LANGS)('%s uses the same {placeholders} as English in every message', (lang) => {
    const dict = DICTIONARIES[lang];
    const mismatched = reference.filter((k) => {
      if (!isMessageKey(k)) return true;
      return placeholders(dict[k]).join() !== placeholders(DICTIONARIES.en[k]).join();
    });
    expect(mismatched).toEqual([]);
  });

  it('has a label for every status, channel, flag, count and role the API can send', () => {
    const needed = [
      ...STATUSES.map((s) => `status.${s}`),
      ...CHANNELS.map((c) => `channel.${c}`),
      ...FLAG_KEYS.map((f) => `flag.${f}`),
      ...SUMMARY_KEYS.map((k) => `count.${k}`),
      ...ROLES.map((r) => `role.${r}`),
      ...['env_required', 'configured', 'lan_ready'].map((s) => `contractStatus.${s}`),
      ...['dry_run', 'live', 'lan'].map((m) => `mode.${m}`),
    ];
    expect(needed.filter((k) => !isMessageKey(k))).toEqual([]);
  });
});

describe('i18n helpers', () => {
  it('fills placeholders', () => {
    expect(translate('en', 'signin.retryAfter', { s: 30 })).toBe('Too many attempts. Try again in 30 s.');
  });

  it('maps tenant locales to languages with az as the default', () => {
    expect(toLang('ru-RU')).toBe('ru');
    expect(toLang('en')).toBe('en');
    expect(toLang('az-Latn-AZ')).toBe('az');
    expect(toLang('de')).toBe('az');
    expect(toLang(null)).toBe('az');
  });

  it('formats dates in the tenant time zone', () => {
    // 20:30 UTC is 00:30 the next day in Baku (UTC+4).
    expect(formatDateTime('2025-01-31T20:30:00Z', 'en', 'Asia/Baku')).toContain('00:30');
    expect(formatDateTime('2025-01-31T20:30:00Z', 'en', 'Asia/Baku')).toContain('1 Feb 2025');
    expect(formatDateTime('not a date', 'en', 'Asia/Baku')).toBe('not a date');
  });

  it('formats AZN amounts for each language', () => {
    for (const lang of LANGS) {
      const s = formatMoney(12.5, 'AZN', lang);
      expect(s).toMatch(/12[.,]50/);
    }
  });

  it('falls back to numeric dates and "1.234,50 ₼" when the browser lacks locale data', () => {
    expect(numericDateTime(new Date('2025-01-31T20:30:05Z'), 'az', 'Asia/Baku')).toBe('01.02.2025, 00:30:05');
    const rootParts = new Intl.NumberFormat('und', { style: 'currency', currency: 'AZN' }).formatToParts(
      -1234.5,
    );
    expect(fallbackMoney(rootParts, 'AZN')).toBe('-1.234,50\u00a0₼');
  });

  it('names the tenant country in the panel language', () => {
    expect(countryName('AZ', 'az')).toBe('Azərbaycan');
    expect(countryName('AZ', 'ru')).toBe('Азербайджан');
    expect(countryName('GE', 'en')).toBe('Georgia');
  });
});
