import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';
import CodepageEncoder, { type Codepage } from '@point-of-sale/codepage-encoder';

/**
 * The ESC t numbers a printer model uses for code pages, read from the encoder itself (it selects
 * a code page with ESC t n when text needs it), so the test printer decodes exactly what the
 * encoder means.
 */
export function codepageNumbers(printerModel: string, pages: readonly Codepage[]): Map<number, Codepage> {
  const out = new Map<number, Codepage>();
  for (const cp of pages) {
    const sample = CodepageEncoder.getCodepoints(cp, true).findIndex((c, i) => i >= 128 && c > 127);
    if (sample < 0) continue;
    try {
      const bytes = new ReceiptPrinterEncoder({ printerModel: printerModel as never })
        .codepage(cp)
        .text(String.fromCodePoint(CodepageEncoder.getCodepoints(cp, true)[sample]!))
        .encode();
      for (let i = 0; i + 2 < bytes.length; i++)
        if (bytes[i] === 0x1b && bytes[i + 1] === 0x74) out.set(bytes[i + 2]!, cp);
    } catch {
      // not a code page of this model
    }
  }
  return out;
}

/** Byte → character table of a code page (index = byte). */
export function codepageChars(cp: Codepage): string[] {
  return CodepageEncoder.getCodepoints(cp, true).map((c) => (c ? String.fromCodePoint(c) : ''));
}

/** Whether `cp` can print `ch` (a single character). */
export function codepageHas(cp: Codepage, ch: string): boolean {
  const c = ch.codePointAt(0)!;
  return c < 128 || CodepageEncoder.getCodepoints(cp, true).includes(c);
}
