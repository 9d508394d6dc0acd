/**
 * WhatsApp message templates as Meta lists them (GET /{version}/{WABA-ID}/message_templates), and
 * the enqueue check of a template send against them. Pure: no I/O.
 */

export interface WaTemplate {
  name: string;
  language: string;
  /** MARKETING, UTILITY, AUTHENTICATION (Meta may re-categorise a template on approval). */
  category: string;
  /** APPROVED, PENDING, REJECTED, PAUSED, DISABLED, … */
  status: string;
  /** Placeholders of the BODY component ({{1}} or {{name}}), each counted once. */
  bodyParams: number;
}

const WORD = /^[A-Za-z0-9_.-]{1,64}$/;

/** Distinct placeholders of a body text: {{1}} {{2}} (positional) or {{first_name}} (named). */
export function countBodyParams(text: string): number {
  const names = new Set<string>();
  for (const m of text.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)) names.add(m[1]!);
  return names.size;
}

/**
 * The templates of one page of Meta's answer; entries that are not well formed are skipped (a
 * template we cannot read cannot be validated against, so sends naming it are refused as unknown).
 */
export function parseTemplatePage(body: unknown): { templates: WaTemplate[]; next: string | null } {
  const b = (body ?? {}) as { data?: unknown; paging?: { next?: unknown } };
  const templates: WaTemplate[] = [];
  for (const t of Array.isArray(b.data) ? (b.data as unknown[]) : []) {
    const e = (t ?? {}) as Record<string, unknown>;
    const { name, language, category, status } = e;
    if (typeof name !== 'string' || name.length === 0 || name.length > 512) continue;
    if (typeof language !== 'string' || !WORD.test(language)) continue;
    if (typeof category !== 'string' || !WORD.test(category)) continue;
    if (typeof status !== 'string' || !WORD.test(status)) continue;
    const components = Array.isArray(e.components) ? (e.components as Record<string, unknown>[]) : [];
    const body = components.find((c) => typeof c?.type === 'string' && c.type.toUpperCase() === 'BODY');
    templates.push({
      name,
      language,
      category: category.toUpperCase(),
      status: status.toUpperCase(),
      bodyParams: typeof body?.text === 'string' ? countBodyParams(body.text) : 0,
    });
  }
  const next = typeof b.paging?.next === 'string' ? b.paging.next : null;
  return { templates, next };
}

export type TemplateRefusal =
  | { code: 'whatsapp_template_unknown'; message: string }
  | { code: 'whatsapp_template_not_approved'; message: string }
  | { code: 'whatsapp_template_params'; message: string };

/** Why a template send may not be enqueued, or null when the synced list allows it. */
export function checkTemplateSend(
  found: WaTemplate | null,
  name: string,
  language: string,
  params: number,
): TemplateRefusal | null {
  if (!found) {
    return {
      code: 'whatsapp_template_unknown',
      message: `The WhatsApp template "${name}" (${language}) is not in the business account's synced templates.`,
    };
  }
  if (found.status !== 'APPROVED') {
    return {
      code: 'whatsapp_template_not_approved',
      message: `The WhatsApp template "${name}" (${language}) is ${found.status}, not APPROVED.`,
    };
  }
  if (found.bodyParams !== params) {
    return {
      code: 'whatsapp_template_params',
      message: `The WhatsApp template "${name}" (${language}) takes ${found.bodyParams} body parameter(s); ${params} given.`,
    };
  }
  return null;
}
