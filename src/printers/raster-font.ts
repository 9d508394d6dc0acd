import { fonts } from 'js-pixel-fonts';

/**
 * The bitmap font for raster lines (GS v 0): the lines that hold a character no code page of the
 * printer has (ə, Ə, ₼). ASCII comes from js-pixel-fonts' "Seven plus"; the Azerbaijani letters are
 * its Latin letters with their marks added, ə is e turned round, and ₼ is drawn here. A cell is 6x12
 * dots, drawn at twice that (12x24, the size of an Epson font A character), so a raster line is as
 * wide as a text line of the same number of columns. Every glyph is distinct, so the test printer
 * reads raster lines back to text with the same table.
 */
export const CELL_W = 6;
export const CELL_H = 12;
export const SCALE = 2;
/** Rows above a capital letter's top, for accents. */
const TOP = 2;

type Bitmap = number[][];

function blank(): Bitmap {
  return Array.from({ length: CELL_H }, () => new Array<number>(CELL_W).fill(0));
}

function place(cell: Bitmap, pixels: readonly (readonly number[])[], top: number): Bitmap {
  pixels.forEach((row, y) =>
    row.forEach((v, x) => {
      if (v && top + y < CELL_H && x < CELL_W) cell[top + y]![x] = 1;
    }),
  );
  return cell;
}

function base(ch: string): { cell: Bitmap; top: number; rows: number } {
  const g = fonts.sevenPlus.glyphs[ch];
  if (!g) throw new Error(`raster font: no base glyph for ${ch}`);
  const top = TOP + g.offset;
  return { cell: place(blank(), g.pixels, top), top, rows: g.pixels.length };
}

/** A letter with a mark above (rows relative to the letter's top; negative = above it). */
function marked(ch: string, mark: readonly (readonly number[])[], dy: number): Bitmap {
  const b = base(ch);
  return place(b.cell, mark, b.top + dy);
}

const DOTS = [[1, 0, 0, 1]];
const DOTS5 = [[0, 1, 0, 1, 0]];
const BREVE = [
  [1, 0, 0, 1],
  [0, 1, 1, 0],
];
const BREVE5 = [
  [0, 1, 0, 1, 0],
  [0, 0, 1, 0, 0],
];
const CEDILLA = [[0, 1, 0, 0]];
const CEDILLA5 = [[0, 0, 1, 0, 0]];

function build(): Map<string, Bitmap> {
  const m = new Map<string, Bitmap>();
  for (const ch of Object.keys(fonts.sevenPlus.glyphs)) m.set(ch, base(ch).cell);
  m.set('ö', marked('o', DOTS, -2));
  m.set('ü', marked('u', DOTS, -2));
  m.set('ğ', marked('g', BREVE, -3));
  m.set('ç', marked('c', CEDILLA, 5));
  m.set('ş', marked('s', CEDILLA, 5));
  m.set('Ö', marked('O', DOTS5, -1));
  m.set('Ü', marked('U', DOTS5, -1));
  m.set('Ğ', marked('G', BREVE5, -2));
  m.set('Ç', marked('C', CEDILLA5, 7));
  m.set('Ş', marked('S', CEDILLA5, 7));
  m.set('İ', marked('I', [[0, 0, 1, 0, 0]], -2));
  // ı: i without its dot.
  const i = fonts.sevenPlus.glyphs.i!;
  m.set('ı', place(blank(), i.pixels.slice(2), TOP + i.offset + 2));
  // ə: e turned half round.
  const e = fonts.sevenPlus.glyphs.e!;
  m.set(
    'ə',
    place(
      blank(),
      [...e.pixels].reverse().map((r) => [...r].reverse()),
      TOP + e.offset,
    ),
  );
  m.set(
    'Ə',
    place(
      blank(),
      [
        [0, 1, 1, 1, 0],
        [1, 0, 0, 0, 1],
        [0, 0, 0, 0, 1],
        [1, 1, 1, 1, 1],
        [1, 0, 0, 0, 1],
        [1, 0, 0, 0, 1],
        [0, 1, 1, 1, 0],
      ],
      TOP,
    ),
  );
  m.set(
    '₼',
    place(
      blank(),
      [
        [0, 0, 1, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [1, 0, 1, 0, 1],
        [1, 0, 1, 0, 1],
        [1, 0, 1, 0, 1],
        [1, 0, 1, 0, 1],
      ],
      TOP,
    ),
  );
  return m;
}

const GLYPHS = build();
const BY_KEY = new Map<string, string>();
for (const [ch, bm] of GLYPHS) {
  const key = bm.map((r) => r.join('')).join('/');
  if (!BY_KEY.has(key)) BY_KEY.set(key, ch);
}

export function rasterCanDraw(ch: string): boolean {
  return GLYPHS.has(ch);
}

/**
 * One line of text as a 1-bit image, `columns` cells wide (at least the text), rounded up to whole
 * bytes: `bits[y][x]` is 1 for a black dot.
 */
export function renderRasterLine(
  text: string,
  columns: number,
): { width: number; height: number; bits: Uint8Array[] } {
  const chars = [...text];
  const cols = Math.max(columns, chars.length);
  const width = Math.ceil((cols * CELL_W * SCALE) / 8) * 8;
  const height = CELL_H * SCALE;
  const bits = Array.from({ length: height }, () => new Uint8Array(width));
  chars.forEach((ch, i) => {
    const g = GLYPHS.get(ch) ?? GLYPHS.get('?')!;
    for (let y = 0; y < CELL_H; y++)
      for (let x = 0; x < CELL_W; x++)
        if (g[y]![x])
          for (let dy = 0; dy < SCALE; dy++)
            for (let dx = 0; dx < SCALE; dx++) bits[y * SCALE + dy]![(i * CELL_W + x) * SCALE + dx] = 1;
  });
  return { width, height, bits };
}

/** Reads a raster line drawn by renderRasterLine back to text; null when a cell is no glyph of the font. */
export function readRasterLine(bits: readonly Uint8Array[], width: number, height: number): string | null {
  if (height !== CELL_H * SCALE) return null;
  const cells = Math.floor(width / (CELL_W * SCALE));
  let out = '';
  for (let c = 0; c < cells; c++) {
    const rows: string[] = [];
    for (let y = 0; y < CELL_H; y++) {
      let r = '';
      for (let x = 0; x < CELL_W; x++) r += bits[y * SCALE]![(c * CELL_W + x) * SCALE] ? '1' : '0';
      rows.push(r);
    }
    const key = rows.join('/');
    if (!/1/.test(key)) {
      out += ' ';
      continue;
    }
    const ch = BY_KEY.get(key);
    if (ch === undefined) return null;
    out += ch;
  }
  return out.trimEnd();
}
