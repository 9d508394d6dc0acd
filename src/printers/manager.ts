import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AppError } from '../core/errors.ts';
import type { Db } from '../store/driver.ts';
import {
  auditPrint,
  getPrinter,
  leasePrinters,
  listPrinters,
  releasePrinters,
  type PrinterRow,
} from '../store/sql/printers.ts';
import { printedOn, reprintSource } from '../store/sql/printers-reprint.ts';
import { getTenant } from '../store/tenants.ts';
import { describeFault, printJob } from './job.ts';
import { encodeTicket } from './ticket.ts';
import { duplicateMark, ticketContent } from './ticket-content.ts';
import { PRINTER_TIMEOUTS } from './transport.ts';
import { PrinterWorker } from './worker.ts';

/** A printer is driven by one process at a time: the lease is renewed every LEASE_MS / 3. */
const LEASE_MS = 15_000;

export interface PrinterManagerDeps {
  db: Db;
  logger: Logger;
  scrub: (s: string) => string;
  metrics?: Registry;
  timeouts?: typeof PRINTER_TIMEOUTS;
  id?: string;
}

/**
 * The print workers of this hub process: one per printer it holds the lease of, each on its own
 * loop, so one printer's trouble (a hang, paper end) never delays another printer or any screen.
 * Jobs to one physical printer (its own, and backup jobs sent to it) queue one at a time.
 */
export class PrinterManager {
  readonly id: string;
  private readonly workers = new Map<string, PrinterWorker>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private refreshing: Promise<void> | null = null;
  private readonly online: Gauge | null;
  private readonly prints: Counter | null;
  private readonly timeouts: typeof PRINTER_TIMEOUTS;

  constructor(private readonly d: PrinterManagerDeps) {
    this.id = d.id ?? `printers:${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.timeouts = d.timeouts ?? PRINTER_TIMEOUTS;
    this.online = d.metrics
      ? new Gauge({
          name: 'comms_printer_online',
          help: '1 while a printer driven by this process confirms it can print, 0 while it is offline (the reason is in the API and audit)',
          labelNames: ['tenant', 'printer'],
          registers: [d.metrics],
        })
      : null;
    this.prints = d.metrics
      ? new Counter({
          name: 'comms_printer_jobs_total',
          help: 'Print outcomes by printer (confirmed, unconfirmed, held, paper_end, cover_open, error, unreachable, no_status, …)',
          labelNames: ['tenant', 'printer', 'outcome'],
          registers: [d.metrics],
        })
      : null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), LEASE_MS / 3);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
    await releasePrinters(this.d.db, this.id).catch(() => undefined);
  }

  /** Takes up printers added, changed or freed since the last look; renews the leases. */
  refresh(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.refreshing ??= (async () => {
      try {
        const mine = await leasePrinters(this.d.db, this.id, LEASE_MS);
        const rows = (await listPrinters(this.d.db, null)).filter((p) =>
          mine.has(`${p.tenant_id}\u0000${p.device_id}`),
        );
        const seen = new Set<string>();
        for (const p of rows) {
          const key = `${p.tenant_id}\u0000${p.device_id}`;
          seen.add(key);
          const w = this.workers.get(key);
          if (w) {
            // Settings edited: the worker picks them up for its next job.
            Object.assign(w.printer, { ...p, state: w.printer.state, reason: w.printer.reason });
            continue;
          }
          const nw = new PrinterWorker(this.context(), p);
          this.workers.set(key, nw);
          if (this.running) nw.start();
        }
        for (const [key, w] of this.workers)
          if (!seen.has(key)) {
            this.workers.delete(key);
            void w.stop();
          }
      } catch (err) {
        this.d.logger.warn(
          { err: this.d.scrub(err instanceof Error ? err.message : String(err)) },
          'printer refresh failed',
        );
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** New inbox entries for these devices: their printers look now instead of at the next poll. */
  kick(tenantId: string, deviceIds: Iterable<string>): void {
    for (const d of deviceIds) this.workers.get(`${tenantId}\u0000${d}`)?.kick();
  }

  /** The live state known here (this process drives the printer), else null. */
  liveState(tenantId: string, deviceId: string): { state: string; reason: string | null } | null {
    const w = this.workers.get(`${tenantId}\u0000${deviceId}`);
    return w ? { state: w.printer.state, reason: w.printer.reason } : null;
  }

  /**
   * Prints an outbox row again, marked as a duplicate in the tenant's language, on `printerId` or on
   * the printer that printed it. Audited with its outcome; throws printer_unavailable when it did not print.
   */
  async reprint(
    tenantId: string,
    outboxId: string,
    printerId: string | undefined,
    actor: string,
  ): Promise<{ printer: string; confirmed: boolean }> {
    const db = this.d.db;
    const r = await reprintSource(db, tenantId, outboxId);
    if (!r || r.channel !== 'in_app') throw new AppError('not_found', 'No such LAN notification.');
    let target = printerId;
    if (!target) {
      target = (await printedOn(db, tenantId, outboxId)) ?? undefined;
      if (!target)
        throw new AppError(
          'validation_failed',
          'This notification went to no printer; name one with "printer".',
        );
    }
    const printer = await getPrinter(db, tenantId, target);
    if (!printer) throw new AppError('not_found', `No such printer "${target}".`);
    const tenant = (await getTenant(db, tenantId))!;
    const content = await ticketContent(db, tenant, r, [duplicateMark(tenant.locale)]);
    const { bytes } = encodeTicket(content, printer.columns, printer.profile);
    try {
      const res = await this.exclusive(printer.address, () =>
        printJob(printer, bytes, async () => undefined, this.timeouts),
      );
      await auditPrint(db, {
        tenantId,
        outboxId,
        printer: printer.device_id,
        action: 'reprinted',
        outcome: res.confirmed ? 'confirmed' : 'unconfirmed',
        reason: `reprint (${duplicateMark(tenant.locale)}) asked by ${actor}`,
        detail: { by: actor },
      });
      this.prints?.inc({ tenant: tenantId, printer: printer.device_id, outcome: 'reprint' });
      return { printer: printer.device_id, confirmed: res.confirmed };
    } catch (err) {
      const f = describeFault(err);
      await auditPrint(db, {
        tenantId,
        outboxId,
        printer: printer.device_id,
        action: 'reprint_failed',
        outcome: f.problem,
        reason: `reprint asked by ${actor} failed: ${f.message}`,
        detail: { by: actor },
      });
      throw new AppError(
        'printer_unavailable',
        `Printer "${printer.device_id}" did not print: ${f.problem} (${f.message}).`,
      );
    }
  }

  exclusive<T>(address: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(address) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(address, tail);
    void tail.then(() => {
      if (this.chains.get(address) === tail) this.chains.delete(address);
    });
    return next;
  }

  private context() {
    return {
      db: this.d.db,
      log: this.d.logger,
      timeouts: this.timeouts,
      scrub: this.d.scrub,
      exclusive: <T>(address: string, fn: () => Promise<T>) => this.exclusive(address, fn),
      onState: (p: PrinterRow, state: 'online' | 'offline', reason: string | null) => {
        this.online?.set({ tenant: p.tenant_id, printer: p.device_id }, state === 'online' ? 1 : 0);
        this.d.logger.info({ printer: p.device_id, tenant: p.tenant_id, state, reason }, 'printer state');
      },
      onPrinted: (p: PrinterRow, outcome: string) =>
        this.prints?.inc({ tenant: p.tenant_id, printer: p.device_id, outcome }),
    };
  }
}
