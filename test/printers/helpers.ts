import { expect } from 'vitest';
import type { TestApp } from '../helpers/runtime.ts';
import { FakeEscPosPrinter } from '../fakes/escpos-printer.ts';

/** Short timeouts so tests of dead printers do not wait for the production ones. */
export const TEST_PRINTER_TIMEOUTS = { connectMs: 1_000, statusMs: 400, writeMs: 2_000 };

export async function startPrinters(n: number): Promise<FakeEscPosPrinter[]> {
  const list: FakeEscPosPrinter[] = [];
  for (let i = 0; i < n; i++) {
    const p = new FakeEscPosPrinter();
    await p.start();
    list.push(p);
  }
  return list;
}

export async function registerPrinter(
  app: TestApp,
  id: string,
  name: string,
  printer: Record<string, unknown>,
): Promise<void> {
  const res = await app.as(app.ownerToken, {
    method: 'POST',
    url: '/api/v1/lan/devices',
    payload: { id, role: 'printer', name, printer: { columns: 48, profile: 'epson-tm-t20iii', ...printer } },
  });
  expect(res.statusCode, res.body).toBe(201);
}

export async function notify(
  app: TestApp,
  target: Record<string, string>,
  title: string,
  body: string,
  source = 'kitchen_desktop',
): Promise<string> {
  const res = await app.as(app.ownerToken, {
    method: 'POST',
    url: '/api/v1/lan/notifications',
    payload: { target, title, body, source },
  });
  expect(res.statusCode, res.body).toBe(202);
  return (res.json() as { id: string }).id;
}

export async function auditOf(
  app: TestApp,
  id: string,
): Promise<
  { action: string; actor: string; reason: string | null; detail: Record<string, unknown> | null }[]
> {
  const r = await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}/audit` });
  expect(r.statusCode, r.body).toBe(200);
  return (
    r.json() as {
      events: {
        action: string;
        actor: string;
        reason: string | null;
        detail: Record<string, unknown> | null;
      }[];
    }
  ).events;
}
