import type { Codepage } from '@point-of-sale/codepage-encoder';

/**
 * What the hub knows about a printer model: the encoder's model (its code page numbering and
 * commands), the code pages worth trying for Azerbaijani and Russian text, in order, and whether it
 * prints raster images (GS v 0). CP857 (Turkish) holds every Azerbaijani letter but ə; CP866 and
 * Windows-1251 hold Russian; no code page holds ə or ₼.
 */
export interface PrinterProfile {
  id: string;
  printerModel: string;
  codepages: Codepage[];
  raster: boolean;
}

const LIST: PrinterProfile[] = [
  {
    id: 'epson-tm-t20iii',
    printerModel: 'epson-tm-t20iii',
    codepages: ['cp857', 'cp866', 'windows1251', 'windows1254'],
    raster: true,
  },
  {
    id: 'epson-tm-t88vi',
    printerModel: 'epson-tm-t88vi',
    codepages: ['cp857', 'cp866', 'windows1251', 'windows1254'],
    raster: true,
  },
  {
    id: 'epson-tm-m30iii',
    printerModel: 'epson-tm-m30iii',
    codepages: ['cp857', 'cp866', 'windows1251', 'windows1254'],
    raster: true,
  },
  {
    id: 'xprinter-xp-n160ii',
    printerModel: 'xprinter-xp-n160ii',
    codepages: ['cp866', 'windows1251'],
    raster: true,
  },
  { id: 'pos-5890', printerModel: 'pos-5890', codepages: ['cp857', 'cp866', 'windows1251'], raster: true },
  // An ESC/POS printer whose raster support is unknown or broken: ə and ₼ are substituted.
  { id: 'generic-text', printerModel: 'epson-tm-t20iii', codepages: ['cp857', 'cp866'], raster: false },
];

export const PRINTER_PROFILES: ReadonlyMap<string, PrinterProfile> = new Map(LIST.map((p) => [p.id, p]));
export const PROFILE_IDS = LIST.map((p) => p.id) as [string, ...string[]];

/**
 * Where a character is in no code page of the printer and it has no raster: a documented
 * stand-in (docs/printers.md). Anything else missing prints as "?".
 */
export const SUBSTITUTES: ReadonlyMap<string, string> = new Map([
  ['ə', 'e'],
  ['Ə', 'E'],
  ['₼', 'AZN'],
  ['ğ', 'g'],
  ['Ğ', 'G'],
  ['ı', 'i'],
  ['İ', 'I'],
  ['ş', 's'],
  ['Ş', 'S'],
  ['ç', 'c'],
  ['Ç', 'C'],
  ['ö', 'o'],
  ['Ö', 'O'],
  ['ü', 'u'],
  ['Ü', 'U'],
]);
