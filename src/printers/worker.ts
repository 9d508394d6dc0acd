import type { Logger } from 'pino';
import type { Db } from '../store/driver.ts';
import { holdAfterMin } from '../store/sql/held-tickets.ts';
import { auditPrint, pendingEntries, recordPrint, type PrintEntry } from '../store/sql/print-queue.ts';
import { getPrinter, setPrinterState, type PrinterRow } from '../store/sql/printers.ts';
import { getTenant } from '../store/tenants.ts';
import { clearPrinter, describeFault, printJob, probePrinter } from './job.ts';
import { recordFailure, recordHeld, recordOutcome, type PrintOutcome } from './print-records.ts';
import { encodeTicket } from './ticket.ts';
import { backupMark, RESTART_MARK, ticketContent } from './ticket-content.ts';
import { PRINTER_TIMEOUTS } from './transport.ts';

/** What a worker needs from the process it runs in. */
export interface WorkerContext {
  db: Db;
  log: Logger;
  timeouts: typeof PRINTER_TIMEOUTS;
  /** Runs `fn` alone on the physical printer at `address` (its own jobs and backup jobs queue). */
  exclusive<T>(address: string, fn: () => Promise<T>): Promise<T>;
  onState(p: PrinterRow, state: 'online' | 'offline', reason: string | null): void;
  onPrinted(p: PrinterRow, outcome: string): void;
  scrub(s: string): string;
}

/** Idle poll: new entries written by this process kick the worker at once; this catches the others. */
const IDLE_MS = 500;
/** Between retries of a printer that cannot print (each retry is a status probe). */
const RETRY_MS = 1_000;
const BATCH = 20;

/**
 * Drives one printer: takes its inbox entries in seq order and prints each as a confirmed job; when
 * the printer cannot print, marks it offline with the reason, retries, and after failoverAfterS
 * prints its pending tickets on its backup. Tickets older than the tenant's hold threshold when
 * they could print are held for staff. Nothing here waits on another printer (except a backup job
 * queueing behind the backup's own job) or on any screen.
 */
export class PrinterWorker {
  private running = false;
  private wake: (() => void) | null = null;
  private kicked = false;
  private offlineSince: number | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly ctx: WorkerContext,
    public printer: PrinterRow,
  ) {}

  get key(): string {
    return `${this.printer.tenant_id}\u0000${this.printer.device_id}`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
  }

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((r) => {
      const t = setTimeout(() => {
        this.wake = null;
        r();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        this.kicked = false;
        r();
      };
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      let next = IDLE_MS;
      try {
        next = await this.cycle();
      } catch (err) {
        this.ctx.log.warn(
          {
            err: this.ctx.scrub(err instanceof Error ? err.message : String(err)),
            printer: this.printer.device_id,
          },
          'printer worker cycle failed',
        );
        next = RETRY_MS;
      }
      if (this.running && next > 0) await this.sleep(next);
    }
  }

  /** One pass; returns how long to wait before the next (0 = go on at once). */
  private async cycle(): Promise<number> {
    const p = this.printer;
    const { db } = this.ctx;
    // Down: ask it first (a status probe), and read its entries after, so what prints on recovery
    // is judged (held or not) when it can print.
    // Never checked (just registered or edited): ask, so its state is known before the first ticket.
    if (this.offlineSince !== null || p.state === 'unknown') {
      const fault = await this.ctx.exclusive(p.address, () => probePrinter(p, this.ctx.timeouts));
      if (fault) {
        await this.offline(fault.problem, fault.message);
        if (p.backup_id && Date.now() - this.offlineSince! >= p.failover_after_s * 1000) {
          const waiting = (await pendingEntries(db, p.tenant_id, p.device_id, BATCH)).filter(
            (e) => e.status !== 'held',
          );
          const tenant = waiting.length > 0 ? await getTenant(db, p.tenant_id) : null;
          if (tenant) await this.failover(waiting, tenant, (await holdAfterMin(db, p.tenant_id)) * 60_000);
        }
        return RETRY_MS;
      }
      await this.online();
    }
    const entries = (await pendingEntries(db, p.tenant_id, p.device_id, BATCH)).filter(
      (e) => e.status !== 'held',
    );
    if (entries.length === 0) return IDLE_MS;
    const tenant = await getTenant(db, p.tenant_id);
    if (!tenant) return RETRY_MS;
    const holdMs = (await holdAfterMin(db, p.tenant_id)) * 60_000;

    for (const e of entries) {
      if (!this.running) return 0;
      if (await this.holdIfOld(e, holdMs)) continue;
      const marks: string[] = [];
      if (e.status === 'writing') {
        if (e.restart_reprint) {
          // Reprinted once after a restart already, and the process died again before confirming.
          await this.finish(e, {
            status: 'printed',
            confirmed: false,
            action: 'print_unconfirmed',
            outcome: 'unconfirmed',
            reason: 'written twice around restarts; not printed a third time',
          });
          continue;
        }
        marks.push(RESTART_MARK);
      }
      const content = await ticketContent(db, tenant, e, marks);
      const { bytes } = encodeTicket(content, p.columns, p.profile);
      const restart = marks.length > 0;
      try {
        const r = await this.ctx.exclusive(p.address, () =>
          printJob(
            p,
            bytes,
            () =>
              recordPrint(db, {
                tenantId: p.tenant_id,
                deviceId: p.device_id,
                seq: e.seq,
                outboxId: e.outbox_id,
                status: 'writing',
                restartReprint: restart,
                attempt: true,
              }),
            this.ctx.timeouts,
          ),
        );
        await this.finish(e, {
          status: 'printed',
          confirmed: r.confirmed,
          action: 'printed',
          outcome: r.confirmed ? 'confirmed' : 'unconfirmed',
          reason: `${r.confirmed ? 'printed, confirmed by the printer status' : 'written; this printer is set to confirm:"write" (unconfirmed)'}${restart ? `, ${RESTART_MARK}` : ''}`,
        });
        await this.online();
      } catch (err) {
        const f = describeFault(err);
        await recordFailure(db, p, e, f);
        this.ctx.onPrinted(p, f.problem);
        await this.offline(f.problem, f.message);
        return RETRY_MS;
      }
    }
    return 0;
  }

  /** A ticket older than the hold threshold is not printed on its own: staff release or discard it. */
  private async holdIfOld(e: PrintEntry, holdMs: number): Promise<boolean> {
    if (e.status === 'released' || e.status === 'writing') return false;
    const age = Date.now() - new Date(e.entry_at).getTime();
    if (age <= holdMs) return false;
    const p = this.printer;
    await recordHeld(this.ctx.db, p, e, holdMs, age);
    this.ctx.onPrinted(p, 'held');
    return true;
  }

  private async finish(e: PrintEntry, r: PrintOutcome): Promise<void> {
    await recordOutcome(this.ctx.db, this.printer, e, r);
    this.ctx.onPrinted(this.printer, r.outcome);
  }

  /**
   * The primary has been down for failoverAfterS: clear what it holds (so it never prints these on
   * its own when it recovers), then print the pending tickets on the backup, marked, in seq order.
   */
  private async failover(
    entries: PrintEntry[],
    tenant: NonNullable<Awaited<ReturnType<typeof getTenant>>>,
    holdMs: number,
  ): Promise<void> {
    const p = this.printer;
    const backup = await getPrinter(this.ctx.db, p.tenant_id, p.backup_id!);
    if (!backup) return;
    const cleared = await this.ctx.exclusive(p.address, () => clearPrinter(p.address, this.ctx.timeouts));
    for (const e of entries) {
      if (!this.running) return;
      if (await this.holdIfOld(e, holdMs)) continue;
      const marks = [backupMark(p.name)];
      if (e.status === 'writing' && !e.restart_reprint) marks.push(RESTART_MARK);
      const content = await ticketContent(this.ctx.db, tenant, e, marks);
      const { bytes } = encodeTicket(content, backup.columns, backup.profile);
      try {
        const r = await this.ctx.exclusive(backup.address, () =>
          printJob(backup, bytes, async () => undefined, this.ctx.timeouts),
        );
        await this.finish(e, {
          status: 'backup',
          confirmed: r.confirmed,
          printedOn: backup.device_id,
          action: 'printed_on_backup',
          outcome: r.confirmed ? 'confirmed' : 'unconfirmed',
          reason: `printed on backup ${backup.device_id}: ${p.device_id} is offline (${p.reason ?? 'down'})${cleared ? '; its buffer was cleared' : '; its buffer could not be cleared'}`,
        });
      } catch (err) {
        const f = describeFault(err);
        await auditPrint(this.ctx.db, {
          tenantId: p.tenant_id,
          outboxId: e.outbox_id,
          printer: backup.device_id,
          action: 'print_failed',
          outcome: f.problem,
          reason: `backup failed too: ${f.message}`,
          detail: { seq: e.seq, inboxOf: p.device_id },
        });
        return;
      }
    }
  }

  private async online(): Promise<void> {
    this.offlineSince = null;
    const p = this.printer;
    if (p.state === 'online' && p.reason === null) return;
    await setPrinterState(this.ctx.db, p.tenant_id, p.device_id, 'online', null);
    p.state = 'online';
    p.reason = null;
    this.ctx.onState(p, 'online', null);
  }

  private async offline(problem: string, message: string): Promise<void> {
    this.offlineSince ??= Date.now();
    const p = this.printer;
    const reason = `${problem}: ${message}`;
    if (p.state === 'offline' && p.reason === reason) return;
    await setPrinterState(this.ctx.db, p.tenant_id, p.device_id, 'offline', reason);
    p.state = 'offline';
    p.reason = reason;
    this.ctx.onState(p, 'offline', reason);
  }
}
