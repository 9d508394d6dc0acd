import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATE_IDS } from '../../src/core/templates.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';

interface Catalogue {
  templates: {
    id: string;
    description: string;
    channels: string[];
    locales: string[];
    required: string[];
    optional: string[];
    example: {
      data: Record<string, unknown>;
      rendered: Record<string, { title: string; subject: string; body: string }>;
    };
  }[];
}

describe('GET /api/v1/templates [pglite]', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('pglite', { start: false });
  });
  afterAll(() => app.close());

  it('lists every template with channels, locales, data fields and a rendered example', async () => {
    const res = await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/templates' });
    expect(res.statusCode, res.body).toBe(200);
    const { templates } = res.json() as Catalogue;
    expect(templates.map((t) => t.id).sort()).toEqual([...TEMPLATE_IDS].sort());
    const report = templates.find((t) => t.id === 'daily_owner_report')!;
    expect(report.required).toEqual(['date', 'revenue', 'orders']);
    expect(report.locales).toEqual(['az', 'ru', 'en']);
    expect(report.channels).toContain('email');
    expect(report.channels).not.toContain('otp_sms');
    // The example is rendered with the tenant's currency (AZN) in each locale.
    expect(report.example.rendered.az!.body).toContain('₼');
    expect(report.example.rendered.ru!.title).toBe('Ежедневный отчёт владельцу');
  });

  it('each example enqueues as it is shown', async () => {
    const { templates } = (
      await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/templates' })
    ).json() as Catalogue;
    for (const t of templates) {
      const res = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: { channel: 'in_app', target: 'pos-1', template: t.id, data: t.example.data, locale: 'en' },
      });
      expect(res.statusCode, `${t.id}: ${res.body}`).toBe(202);
      const item = (
        await app.as(app.ownerToken, {
          method: 'GET',
          url: `/api/v1/outbox/${(res.json() as { id: string }).id}`,
        })
      ).json() as { body: string };
      expect(item.body).toBe(t.example.rendered.en!.body);
    }
  });

  it('needs a token', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/templates' });
    expect(res.statusCode).toBe(401);
  });
});
