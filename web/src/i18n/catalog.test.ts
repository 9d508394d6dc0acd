import { describe, expect, it } from 'vitest';
import { ADAPTERS, CONTRACTS } from '../../../src/core/channels.ts';
import { ADAPTER_TRANSLATIONS, CONTRACT_TRANSLATIONS, catalogText } from './catalog.ts';

const FIELDS = ['name', 'provider', 'note'] as const;

describe('contract and adapter wording', () => {
  const lists = [
    ['contract', CONTRACTS, CONTRACT_TRANSLATIONS],
    ['adapter', ADAPTERS, ADAPTER_TRANSLATIONS],
  ] as const;

  it.each(['az', 'ru'] as const)(
    '%s translates name, provider and note of every contract and adapter the server lists',
    (lang) => {
      const missing: string[] = [];
      for (const [kind, server, table] of lists) {
        for (const item of server) {
          for (const f of FIELDS) {
            if (!table[lang][item.id]?.[f]?.trim()) missing.push(`${kind}.${item.id}.${f}`);
          }
        }
      }
      expect(missing).toEqual([]);
    },
  );

  it('keeps no translation for an id the server does not list', () => {
    for (const [, server, table] of lists) {
      const ids = server.map((x) => x.id as string).sort();
      for (const lang of ['az', 'ru'] as const) expect(Object.keys(table[lang]).sort()).toEqual(ids);
    }
  });

  it('shows exactly the server text in English, and the server text for a field not translated', () => {
    for (const [kind, server] of lists) {
      for (const item of server) {
        expect(catalogText(kind, 'en', item.id, item)).toEqual({
          name: item.name,
          provider: item.provider,
          note: item.note,
        });
      }
    }
    const future = { name: 'Viber', provider: 'Rakuten Viber', note: 'New channel.' };
    expect(catalogText('contract', 'az', 'viber', future)).toEqual(future);
    const smtp = ADAPTERS.find((a) => a.id === 'smtp')!;
    expect(catalogText('adapter', 'ru', 'smtp', smtp).note).toBe(ADAPTER_TRANSLATIONS.ru.smtp!.note);
  });

  it('an id that is an inherited object property shows the server text', () => {
    const server = { name: 'N', provider: 'P', note: 'T' };
    for (const id of ['constructor', '__proto__', 'toString'])
      expect(catalogText('adapter', 'az', id, server)).toEqual(server);
  });
});
