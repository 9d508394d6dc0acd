/** The device app's words, in the panel's three languages (kept apart: the screens need few). */
import { LANGS, toLang, type Lang } from '../i18n/index.ts';

export { LANGS, toLang, type Lang };

export const en = {
  title: 'Notification center',
  brand: 'MUPZAOS',
  'pair.heading': 'Pair this screen',
  'pair.intro':
    'Ask the owner for a pairing code (owner panel → LAN devices → Pair a device) and enter it here.',
  'pair.code': 'Pairing code',
  'pair.submit': 'Pair',
  'pair.busy': 'Pairing…',
  'pair.invalid': 'This code is not valid (wrong, expired or already used). Ask the owner for a new one.',
  'pair.rateLimited': 'Too many tries from this screen. Wait {s} s and try again.',
  'pair.failed': 'Pairing failed: the hub cannot be reached.',
  'pair.loggedOut': 'This screen was removed by the owner. Pair it again with a new code.',
  'state.connecting': 'Connecting to the hub…',
  'state.hubDown': 'Hub unreachable — this screen cannot reach the hub (local network). Retrying…',
  'state.internetDown': 'Internet is down at the hub — kitchen and POS notifications keep working',
  'state.live': 'Connected',
  unread: '{n} open',
  'unread.label': 'Open notifications',
  empty: 'No notifications yet.',
  mute: 'Mute',
  done: 'Done',
  undo: 'Undo',
  doneBy: 'Done by {name}',
  doneByMe: 'Done on this screen',
  'age.now': 'just now',
  from: 'From {source}',
  lang: 'Language',
  signOut: 'Unpair',
  device: 'Screen: {name}',
  'role.pos': 'POS',
  'role.waiter': 'Waiter',
  'role.kitchen': 'Kitchen',
  'role.printer': 'Printer',
  'source.kitchen': 'Kitchen',
  'source.pos': 'POS',
  'source.waiter': 'Waiter',
  'source.lan': 'Hub',
  'source.mupzaos': 'MUPZAOS',
} as const;

export type Key = keyof typeof en;

export const az: Record<Key, string> = {
  title: 'Bildiriş mərkəzi',
  brand: 'MUPZAOS',
  'pair.heading': 'Bu ekranı qoşun',
  'pair.intro': 'Sahibdən qoşulma kodu istəyin (sahib paneli → LAN cihazları → Cihaz qoş) və onu bura yazın.',
  'pair.code': 'Qoşulma kodu',
  'pair.submit': 'Qoş',
  'pair.busy': 'Qoşulur…',
  'pair.invalid':
    'Bu kod etibarsızdır (səhv, vaxtı keçib və ya artıq istifadə olunub). Sahibdən yenisini istəyin.',
  'pair.rateLimited': 'Bu ekrandan çox cəhd edilib. {s} san gözləyib yenidən cəhd edin.',
  'pair.failed': 'Qoşulma alınmadı: hab əlçatan deyil.',
  'pair.loggedOut': 'Bu ekran sahib tərəfindən silinib. Yeni kodla yenidən qoşun.',
  'state.connecting': 'Haba qoşulur…',
  'state.hubDown': 'Hab əlçatan deyil — bu ekran haba çata bilmir (yerli şəbəkə). Yenidən cəhd edilir…',
  'state.internetDown': 'Habda internet yoxdur — mətbəx və POS bildirişləri işləməyə davam edir',
  'state.live': 'Qoşulub',
  unread: '{n} açıq',
  'unread.label': 'Açıq bildirişlər',
  empty: 'Hələ bildiriş yoxdur.',
  mute: 'Səssiz',
  done: 'Hazır',
  undo: 'Geri al',
  doneBy: '{name} tərəfindən bağlandı',
  doneByMe: 'Bu ekranda bağlandı',
  'age.now': 'indicə',
  from: 'Mənbə: {source}',
  lang: 'Dil',
  signOut: 'Ayır',
  device: 'Ekran: {name}',
  'role.pos': 'POS',
  'role.waiter': 'Ofisiant',
  'role.kitchen': 'Mətbəx',
  'role.printer': 'Printer',
  'source.kitchen': 'Mətbəx',
  'source.pos': 'POS',
  'source.waiter': 'Ofisiant',
  'source.lan': 'Hab',
  'source.mupzaos': 'MUPZAOS',
};

export const ru: Record<Key, string> = {
  title: 'Центр уведомлений',
  brand: 'MUPZAOS',
  'pair.heading': 'Подключите этот экран',
  'pair.intro':
    'Попросите у владельца код подключения (панель владельца → LAN-устройства → Подключить устройство) и введите его здесь.',
  'pair.code': 'Код подключения',
  'pair.submit': 'Подключить',
  'pair.busy': 'Подключение…',
  'pair.invalid': 'Код недействителен (неверный, истёк или уже использован). Попросите у владельца новый.',
  'pair.rateLimited': 'Слишком много попыток с этого экрана. Подождите {s} с и попробуйте снова.',
  'pair.failed': 'Не удалось подключиться: хаб недоступен.',
  'pair.loggedOut': 'Владелец удалил этот экран. Подключите его заново с новым кодом.',
  'state.connecting': 'Подключение к хабу…',
  'state.hubDown': 'Хаб недоступен — экран не может связаться с хабом (локальная сеть). Повторяем…',
  'state.internetDown': 'На хабе нет интернета — уведомления кухни и POS продолжают работать',
  'state.live': 'Подключено',
  unread: 'Открыто: {n}',
  'unread.label': 'Открытые уведомления',
  empty: 'Уведомлений пока нет.',
  mute: 'Без звука',
  done: 'Готово',
  undo: 'Отменить',
  doneBy: 'Закрыто: {name}',
  doneByMe: 'Закрыто на этом экране',
  'age.now': 'только что',
  from: 'Источник: {source}',
  lang: 'Язык',
  signOut: 'Отключить',
  device: 'Экран: {name}',
  'role.pos': 'POS',
  'role.waiter': 'Официант',
  'role.kitchen': 'Кухня',
  'role.printer': 'Принтер',
  'source.kitchen': 'Кухня',
  'source.pos': 'POS',
  'source.waiter': 'Официант',
  'source.lan': 'Хаб',
  'source.mupzaos': 'MUPZAOS',
};

const DICTS: Record<Lang, Record<Key, string>> = { en, az, ru };

export function tr(lang: Lang, key: Key, params: Record<string, string | number> = {}): string {
  return DICTS[lang][key].replace(/\{(\w+)\}/g, (m, k: string) =>
    Object.hasOwn(params, k) ? String(params[k]) : m,
  );
}

/** A source id as a name staff know ("kitchen" → "Kitchen"); unknown sources are shown as they are. */
export function sourceName(lang: Lang, source: string): string {
  const key = `source.${source}`;
  return Object.hasOwn(en, key) ? tr(lang, key as Key) : source;
}

/** "3 min ago" in the screen's language. */
export function age(lang: Lang, iso: string, now: number): string {
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 45) return tr(lang, 'age.now');
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'always', style: 'short' });
  if (s < 3600) return rtf.format(-Math.round(s / 60), 'minute');
  if (s < 86_400) return rtf.format(-Math.round(s / 3600), 'hour');
  return rtf.format(-Math.round(s / 86_400), 'day');
}
