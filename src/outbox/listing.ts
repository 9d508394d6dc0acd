import { isChannel } from '../core/channels.ts';
import { decodeCursor, encodeCursor } from '../core/cursor.ts';
import { AppError } from '../core/errors.ts';
import { isStatus } from '../core/status.ts';
import type { Db } from '../store/driver.ts';
import type { OutboxRow } from '../store/rows.ts';
import { outboxPage } from '../store/sql/outbox-read.ts';

export interface ListFilter {
  status?: string;
  channel?: string;
  source?: string;
  limit: number;
  cursor?: string;
}

/** One page of a tenant's outbox, newest first, with the cursor of the next; filters are validated. */
export async function listOutbox(
  db: Db,
  tenantId: string,
  f: ListFilter,
): Promise<{ items: OutboxRow[]; nextCursor: string | null }> {
  if (f.status !== undefined && !isStatus(f.status)) {
    throw new AppError('validation_failed', `Unknown status filter "${f.status.slice(0, 20)}".`);
  }
  if (f.channel !== undefined && !isChannel(f.channel)) {
    throw new AppError('unknown_channel', `Unknown channel filter "${f.channel.slice(0, 20)}".`);
  }
  const after = f.cursor === undefined ? null : decodeCursor(f.cursor);
  if (f.cursor !== undefined && !after) {
    throw new AppError('validation_failed', 'The cursor is not valid; use nextCursor from a previous page.', {
      details: { field: 'cursor' },
    });
  }
  const rows = await db.tx(
    (q) =>
      outboxPage(q, tenantId, {
        status: f.status ?? null,
        channel: f.channel ?? null,
        source: f.source ?? null,
        afterAt: after?.at ?? null,
        afterId: after?.id ?? null,
        limit: f.limit + 1,
      }),
    { tenantId, readOnly: true },
  );
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > f.limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null;
  return { items: page.map(({ cursor_at: _c, ...row }) => row), nextCursor };
}
