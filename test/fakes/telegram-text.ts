/**
 * Telegram message text "after entities parsing": the visible text Telegram would deliver, used to
 * enforce the 1-4096 limit and to refuse malformed HTML like Telegram does ("can't parse entities").
 * HTML follows the formatting-options rules strictly; the Markdown modes are approximate (markers
 * and escapes removed, no validation) because our adapters send HTML or plain text.
 */

export type ParsedText = { ok: true; text: string } | { ok: false; error: string };

const HTML_TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'span',
  'tg-spoiler',
  'a',
  'code',
  'pre',
  'blockquote',
]);

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

const ATTR = /\s*([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/y;

export function parseTelegramText(text: string, parseMode: string | undefined): ParsedText {
  if (parseMode === undefined || parseMode === '') return { ok: true, text };
  if (parseMode === 'HTML') return parseHtml(text);
  if (parseMode === 'MarkdownV2') return { ok: true, text: stripMarkdown(text, true) };
  if (parseMode === 'Markdown') return { ok: true, text: stripMarkdown(text, false) };
  return { ok: false, error: `unsupported parse_mode "${parseMode}"` };
}

function parseHtml(src: string): ParsedText {
  let out = '';
  const open: string[] = [];
  let i = 0;
  const offset = (at: number) => Buffer.byteLength(src.slice(0, at));
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '&') {
      const m = /^&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{1,10});/.exec(src.slice(i, i + 12));
      const decoded = m?.[1] ? decodeEntity(m[1]) : undefined;
      if (m && decoded !== undefined) {
        out += decoded;
        i += m[0].length;
      } else {
        out += c; // Telegram keeps an unknown entity or a bare & as text
        i += 1;
      }
      continue;
    }
    if (c !== '<') {
      out += c;
      i += 1;
      continue;
    }
    const end = src.indexOf('>', i);
    if (end < 0) return { ok: false, error: `Unclosed start tag at byte offset ${offset(i)}` };
    const inner = src.slice(i + 1, end);
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim().toLowerCase();
      const top = open.pop();
      if (top === undefined) return { ok: false, error: `Unexpected end tag at byte offset ${offset(i)}` };
      if (name !== top) {
        return {
          ok: false,
          error: `Unmatched end tag at byte offset ${offset(i)}, expected "</${top}>", found "</${name}>"`,
        };
      }
    } else {
      const tag = parseStartTag(inner);
      if (!tag) return { ok: false, error: `Can't parse start tag at byte offset ${offset(i)}` };
      if (!HTML_TAGS.has(tag.name))
        return { ok: false, error: `Unsupported start tag "${tag.name}" at byte offset ${offset(i)}` };
      if (tag.name === 'span' && tag.attrs.class !== 'tg-spoiler') {
        return { ok: false, error: `Tag "span" must have class "tg-spoiler" at byte offset ${offset(i)}` };
      }
      if (tag.name === 'a' && !tag.attrs.href)
        return { ok: false, error: `Tag "a" must have attribute "href" at byte offset ${offset(i)}` };
      open.push(tag.name);
    }
    i = end + 1;
  }
  const unclosed = open.pop();
  if (unclosed !== undefined)
    return { ok: false, error: `Can't find end tag corresponding to start tag "${unclosed}"` };
  return { ok: true, text: out };
}

function parseStartTag(inner: string): { name: string; attrs: Record<string, string> } | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9-]*)/.exec(inner);
  if (!m?.[1]) return undefined;
  const attrs: Record<string, string> = {};
  let rest = inner.slice(m[1].length);
  while (rest.trim() !== '') {
    ATTR.lastIndex = 0;
    const a = ATTR.exec(rest);
    if (!a?.[1]) return undefined;
    attrs[a[1].toLowerCase()] = decodeAttr(a[2] ?? a[3] ?? a[4] ?? '');
    rest = rest.slice(a[0].length);
  }
  return { name: m[1].toLowerCase(), attrs };
}

function decodeAttr(v: string): string {
  return v.replace(
    /&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{1,10});/g,
    (all, e: string) => decodeEntity(e) ?? all,
  );
}

function decodeEntity(e: string): string | undefined {
  if (e.startsWith('#x') || e.startsWith('#X')) return fromCodePoint(parseInt(e.slice(2), 16));
  if (e.startsWith('#')) return fromCodePoint(parseInt(e.slice(1), 10));
  return NAMED_ENTITIES[e];
}

function fromCodePoint(n: number): string | undefined {
  return Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

function stripMarkdown(src: string, v2: boolean): string {
  const links = src.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
  if (!v2) return links.replace(/[*_`]/g, '');
  // MarkdownV2: an escaped character stays, an unescaped marker disappears.
  return links.replace(/\\(.)|[*_~|`]/g, (_m, esc: string | undefined) => esc ?? '');
}

/** Message length as Telegram limits it; UTF-16 units are the stricter reading of "characters". */
export function telegramTextLength(text: string): number {
  return text.length;
}
