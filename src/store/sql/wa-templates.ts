import type { WaTemplate } from '../../core/wa-templates.ts';
import type { Queryable } from '../driver.ts';

export interface WaTemplateRow extends WaTemplate {
  syncedAt: Date;
}

/** Replaces the account's synced list with Meta's (templates gone from Meta are gone here). */
export async function replaceTemplates(
  q: Queryable,
  wabaId: string,
  list: readonly WaTemplate[],
): Promise<void> {
  const payload = JSON.stringify(
    list.map((t) => ({
      name: t.name,
      language: t.language,
      category: t.category,
      status: t.status,
      body_params: t.bodyParams,
    })),
  );
  await q.query(
    `WITH r AS (
       SELECT DISTINCT ON (name, language) * FROM jsonb_to_recordset($2::jsonb)
         AS x(name text, language text, category text, status text, body_params int)
     ), gone AS (
       DELETE FROM whatsapp_templates t WHERE t.waba_id = $1
         AND NOT EXISTS (SELECT 1 FROM r WHERE r.name = t.name AND r.language = t.language)
     )
     INSERT INTO whatsapp_templates (waba_id, name, language, category, status, body_params, synced_at)
     SELECT $1, name, language, category, status, body_params, now() FROM r
     ON CONFLICT (waba_id, name, language) DO UPDATE SET category = EXCLUDED.category,
       status = EXCLUDED.status, body_params = EXCLUDED.body_params, synced_at = EXCLUDED.synced_at`,
    [wabaId, payload],
  );
}

const COLUMNS = `name, language, category, status, body_params AS "bodyParams", synced_at AS "syncedAt"`;

export async function listTemplates(q: Queryable, wabaId: string): Promise<WaTemplateRow[]> {
  const r = await q.query<WaTemplateRow>(
    `SELECT ${COLUMNS} FROM whatsapp_templates WHERE waba_id = $1 ORDER BY name, language`,
    [wabaId],
  );
  return r.rows;
}

export async function findTemplate(
  q: Queryable,
  wabaId: string,
  name: string,
  language: string,
): Promise<WaTemplateRow | null> {
  const r = await q.query<WaTemplateRow>(
    `SELECT ${COLUMNS} FROM whatsapp_templates WHERE waba_id = $1 AND name = $2 AND language = $3`,
    [wabaId, name, language],
  );
  return r.rows[0] ?? null;
}
