import type { Db } from '../store/driver.ts';
import { markLanDelivered } from '../store/sql/lan-delivered.ts';
import { ackDonePrefix, auditPrint, recordPrint, type PrintEntry } from '../store/sql/print-queue.ts';
import type { PrinterRow } from '../store/sql/printers.ts';
import type { describeFault } from './job.ts';

/** How a ticket ended, as stored on its entry and in the audit trail. */
export interface PrintOutcome {
  status: 'printed' | 'backup';
  confirmed: boolean;
  action: string;
  outcome: string;
  reason: string;
  /** The printer it came out of, when not the entry's own (a backup). */
  printedOn?: string;
}

/**
 * A ticket printed (or given up on): its entry, its audit row, the inbox ack and the row's delivery
 * move together, so a crash never leaves a printed ticket waiting to print again.
 */
export async function recordOutcome(db: Db, p: PrinterRow, e: PrintEntry, r: PrintOutcome): Promise<void> {
  await db.tx(
    async (q) => {
      await recordPrint(q, {
        tenantId: p.tenant_id,
        deviceId: p.device_id,
        seq: e.seq,
        outboxId: e.outbox_id,
        status: r.status,
        confirmed: r.confirmed,
        printedOn: r.printedOn ?? p.device_id,
        reason: r.reason,
      });
      await auditPrint(q, {
        tenantId: p.tenant_id,
        outboxId: e.outbox_id,
        printer: r.printedOn ?? p.device_id,
        action: r.action,
        outcome: r.outcome,
        reason: r.reason,
        detail: { seq: e.seq, inboxOf: p.device_id },
      });
      await ackDonePrefix(q, p.tenant_id, p.device_id);
      await markLanDelivered(q, [e.outbox_id]);
    },
    { tenantId: p.tenant_id },
  );
}

/** The entry back to pending (a failure) or held, with its audit row, in one transaction. */
async function recordSetBack(
  db: Db,
  p: PrinterRow,
  e: PrintEntry,
  entry: { status: 'pending' | 'held'; reason: string },
  audit: { action: string; outcome: string; reason: string; detail: Record<string, unknown> },
): Promise<void> {
  await db.tx(
    async (q) => {
      await recordPrint(q, {
        tenantId: p.tenant_id,
        deviceId: p.device_id,
        seq: e.seq,
        outboxId: e.outbox_id,
        ...entry,
      });
      await auditPrint(q, { tenantId: p.tenant_id, outboxId: e.outbox_id, printer: p.device_id, ...audit });
    },
    { tenantId: p.tenant_id },
  );
}

/** A print that failed: the entry goes back to pending with the fault, audited. */
export function recordFailure(
  db: Db,
  p: PrinterRow,
  e: PrintEntry,
  f: ReturnType<typeof describeFault>,
): Promise<void> {
  return recordSetBack(
    db,
    p,
    e,
    { status: 'pending', reason: `${f.problem}: ${f.message}` },
    {
      action: 'print_failed',
      outcome: f.problem,
      reason: f.message,
      detail: { seq: e.seq, bytesMayBeHeld: f.written },
    },
  );
}

/** A ticket too old to print on its own: held for staff to release or discard, audited. */
export function recordHeld(db: Db, p: PrinterRow, e: PrintEntry, holdMs: number, age: number): Promise<void> {
  return recordSetBack(
    db,
    p,
    e,
    {
      status: 'held',
      reason: `older than ${Math.round(holdMs / 60_000)} min when the printer could print it`,
    },
    {
      action: 'print_held',
      outcome: 'held',
      reason: `held for staff: ${Math.round(age / 60_000)} min old`,
      detail: { seq: e.seq },
    },
  );
}
