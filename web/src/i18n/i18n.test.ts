import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/core/errors.ts';
import { translateErrorCode, translateReason } from './reasons.ts';
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
      ...Object.keys(ERROR_CODES).map((c) => `error.${c}`),
      ...['owner', 'service', 'device'].map((r) => `account.role.${r}`),
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

  it('formats AZN amounts for each language: az "1.845,50 ₼", ru "1 845,50 ₼", en "AZN 1,845.50"', () => {
    expect(formatMoney(1845.5, 'AZN', 'az')).toBe('1.845,50\u00a0₼');
    expect(formatMoney(1845.5, 'AZN', 'ru')).toBe('1\u00a0845,50\u00a0₼');
    expect(formatMoney(1845.5, 'AZN', 'en')).toBe('AZN\u00a01,845.50');
  });

  it('falls back to numeric dates and "1.234,50 ₼" when the browser lacks locale data', () => {
    expect(numericDateTime(new Date('2025-01-31T20:30:05Z'), 'az', 'Asia/Baku')).toBe('01.02.2025, 00:30:05');
    const rootParts = new Intl.NumberFormat('und', { style: 'currency', currency: 'AZN' }).formatToParts(
      -1234.5,
    );
    expect(fallbackMoney(rootParts, 'AZN')).toBe('-1.234,50\u00a0₼');
    expect(fallbackMoney(rootParts, 'AZN', 'ru')).toBe('-1\u00a0234,50\u00a0₼');
  });

  it('names the tenant country in the panel language', () => {
    expect(countryName('AZ', 'az')).toBe('Azərbaycan');
    expect(countryName('AZ', 'ru')).toBe('Азербайджан');
    expect(countryName('GE', 'en')).toBe('Georgia');
  });
});

describe('server text in the panel language', () => {
  it('translates API errors by their stable code, whatever the message says', () => {
    expect(translateErrorCode('ru', 'invalid_transition')).toBe(DICTIONARIES.ru['error.invalid_transition']);
    expect(translateErrorCode('az', 'not_found')).toBe(DICTIONARIES.az['error.not_found']);
    expect(translateErrorCode('az', 'some_future_code')).toBeNull();
  });

  it('rebuilds the dispatcher and gate reasons from the dictionaries', () => {
    expect(translateReason('ru', 'handed to the LAN hub')).toBe('Передано локальному хабу');
    expect(translateReason('az', 'waiting for tenant opt-in for whatsapp')).toBe(
      'Gözlənilir: WhatsApp kanalına restoranın razılığı',
    );
    expect(
      translateReason(
        'ru',
        'OTP provider env is not configured (missing tenant opt-in for otp_sms and provider env OTP_PROVIDER); OTP is never queued',
      ),
    ).toBe(
      'Переменные окружения OTP-провайдера не заданы (нет: согласие ресторана на канал OTP SMS и переменные провайдера OTP_PROVIDER); OTP никогда не ставится в очередь',
    );
    expect(
      translateReason('az', 'dry-run: runtime is qa, not production; COMMS_EXTERNAL_SENDS is disabled'),
    ).toBe('Sınaq rejimi: iş rejimi: QA (sınaq) (istehsal deyil); COMMS_EXTERNAL_SENDS söndürülüb');
    expect(translateReason('ru', 'provider_5xx: upstream said no; retry in 2.5 s')).toBe(
      'Ошибка provider_5xx; повтор через 2.5 с',
    );
    expect(translateReason('ru', 'cancelled by owner:demo-owner')).toBe('Отменил: owner:demo-owner');
  });

  it('leaves a sentence it does not know (or a clause of one) to the server wording', () => {
    expect(translateReason('az', 'something new happened')).toBeNull();
    expect(translateReason('ru', 'waiting for the moon')).toBeNull();
  });
});
