import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';

describe('OpenAPI document [pglite]', () => {
  let app: TestApp;
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: Record<string, unknown>;
  };
  beforeAll(async () => {
    app = await createTestApp('pglite');
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json();
  });
  afterAll(() => app.close());

  it('is OpenAPI 3.1', () => {
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents every route the app serves', () => {
    const routes = app.rt.http!.collectedRoutes;
    expect(routes.length).toBeGreaterThan(15);
    const undocumented = routes
      // The owner panel's page (its static files, or the notice shown when it is not built) is not API.
      .filter((r) => r.url !== '/openapi.json' && r.url !== '/' && !r.url.includes('*'))
      .filter((r) => !r.doc || !doc.paths[r.url.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[r.method.toLowerCase()])
      .map((r) => `${r.method} ${r.url}`);
    expect(undocumented).toEqual([]);
  });

  it('documents every error code', () => {
    const text = JSON.stringify(doc);
    const missing = Object.keys(ERROR_CODES).filter((c) => !text.includes(`"${c}"`));
    expect(missing).toEqual([]);
    expect(Object.keys(doc.components['x-error-codes'] as object).sort()).toEqual(
      Object.keys(ERROR_CODES).sort(),
    );
  });

  it('every documented error response uses the documented status of its code', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, resp] of Object.entries(op.responses)) {
          const examples =
            (resp as { content?: Record<string, { examples?: Record<string, unknown> }> }).content?.[
              'application/json'
            ]?.examples ?? {};
          for (const code of Object.keys(examples)) {
            expect(ERROR_CODES[code as keyof typeof ERROR_CODES].status, `${method} ${path} ${code}`).toBe(
              Number(status),
            );
          }
        }
      }
    }
  });

  it('carries a server, explicit security on every operation, request bodies of webhooks and non-JSON content types', () => {
    type Op = {
      security?: unknown[];
      requestBody?: { required: boolean; content: Record<string, { schema: { required?: string[] } }> };
      responses: Record<string, { content?: Record<string, unknown> }>;
    };
    const paths = doc.paths as unknown as Record<string, Record<string, Op>>;
    expect((doc as unknown as { servers: { url: string }[] }).servers.length).toBeGreaterThan(0);
    for (const [path, ops] of Object.entries(paths))
      for (const [method, op] of Object.entries(ops)) expect(op.security, `${method} ${path}`).toBeDefined();
    expect(paths['/healthz']?.get?.security ?? paths['/metrics']!.get!.security).toEqual([]);
    expect(paths['/webhooks/whatsapp']!.post!.security).toEqual([]);
    expect(paths['/api/v1/outbox']!.post!.security).toEqual([{ bearer: [] }]);
    expect(
      paths['/webhooks/whatsapp']!.post!.requestBody!.content['application/json']!.schema.required,
    ).toEqual(['object', 'entry']);
    expect(
      paths['/telegram/webhook/{secret}']!.post!.requestBody!.content['application/json']!.schema.required,
    ).toEqual(['update_id']);
    expect(paths['/api/v1/telegram/links']!.post!.requestBody!.required).toBe(false);
    expect(Object.keys(paths['/metrics']!.get!.responses['200']!.content!)).toEqual(['text/plain']);
    expect(Object.keys(paths['/api/v1/events']!.get!.responses['200']!.content!)).toEqual([
      'text/event-stream',
    ]);
    expect(paths['/api/v1/templates']!.get).toBeDefined();
  });
});
