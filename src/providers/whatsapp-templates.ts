import { wabaIdOf, type Config } from '../config/config.ts';
import { AppError } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import { parseTemplatePage, type WaTemplate } from '../core/wa-templates.ts';
import type { Db } from '../store/driver.ts';
import { replaceTemplates } from '../store/sql/wa-templates.ts';
import { httpCall, TransportError } from './http.ts';

/** Pages followed at most (100 templates a page): an account has at most a few hundred. */
const MAX_PAGES = 20;

/** The configured business account, or null when template sync is off. */

/**
 * Lists the business account's message templates from Meta (GET /{version}/{WABA-ID}/message_templates,
 * following paging.next on the same host only, so the token never goes elsewhere) and replaces the
 * synced list. Throws AppError whatsapp_template_sync_failed (list unchanged) or provider_not_configured.
 */
export async function syncWhatsAppTemplates(
  config: Config,
  db: Db,
  redactor: Redactor,
  timeoutMs = 10_000,
): Promise<WaTemplate[]> {
  const env = config.env;
  const waba = wabaIdOf(config);
  if (!waba || !env.WHATSAPP_ACCESS_TOKEN || !env.WHATSAPP_API_VERSION) {
    throw new AppError(
      'provider_not_configured',
      'Template sync needs WHATSAPP_BUSINESS_ACCOUNT_ID, WHATSAPP_ACCESS_TOKEN and WHATSAPP_API_VERSION.',
    );
  }
  const base = env.WHATSAPP_GRAPH_BASE_URL.replace(/\/+$/, '');
  const origin = new URL(base).origin;
  let url: string | null =
    `${base}/${env.WHATSAPP_API_VERSION}/${waba}/message_templates?fields=name,language,category,status,components&limit=100`;
  const all: WaTemplate[] = [];
  for (let page = 0; url && page < MAX_PAGES; page++) {
    let res;
    try {
      res = await httpCall(
        { method: 'GET', url, headers: { authorization: `Bearer ${env.WHATSAPP_ACCESS_TOKEN}` }, timeoutMs },
        redactor,
      );
    } catch (err) {
      if (err instanceof TransportError) {
        throw new AppError('whatsapp_template_sync_failed', `Meta could not be reached: ${err.kind}.`);
      }
      throw err;
    }
    if (res.status !== 200 || res.json === undefined) {
      const code = (res.json as { error?: { code?: unknown } } | undefined)?.error?.code;
      throw new AppError(
        'whatsapp_template_sync_failed',
        `Meta answered HTTP ${res.status}${typeof code === 'number' ? ` (code ${code})` : ''}${res.json === undefined ? ', not JSON' : ''}.`,
      );
    }
    const parsed = parseTemplatePage(res.json);
    all.push(...parsed.templates);
    url = parsed.next && new URL(parsed.next).origin === origin ? parsed.next : null;
  }
  await db.tx((q) => replaceTemplates(q, waba, all));
  return all;
}
