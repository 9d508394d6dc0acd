import type { BlockList } from 'node:net';
import { AppError } from '../core/errors.ts';
import type { Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { getPrinter, savePrinter, type PrinterRow, type PrinterSettings } from '../store/sql/printers.ts';
import { checkPrinterAddress } from './address.ts';

/** Validates and stores a printer's settings (in the transaction that registers or edits the device). */
export async function storePrinterSettings(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  s: PrinterSettings,
  allowed: BlockList,
  actor: string,
): Promise<void> {
  const a = checkPrinterAddress(s.address, allowed);
  if (!a.ok) throw new AppError('printer_address_not_allowed', a.message);
  if (s.backup !== null) {
    if (s.backup === deviceId) throw new AppError('validation_failed', 'A printer cannot be its own backup.');
    if (!(await getPrinter(q, tenantId, s.backup)))
      throw new AppError(
        'validation_failed',
        `The backup "${s.backup}" is not a registered printer of this restaurant.`,
      );
  }
  await savePrinter(q, tenantId, deviceId, { ...s, address: a.address });
  await appendAudit(q, [
    {
      tenantId,
      entity: 'device',
      entityId: deviceId,
      actor,
      action: 'printer_settings',
      reason: `printer at ${a.address}, ${s.columns} columns, ${s.profile}, confirm ${s.confirm}${s.backup ? `, backup ${s.backup} after ${s.failoverAfterS} s` : ''}`,
      detail: {
        address: a.address,
        columns: s.columns,
        profile: s.profile,
        backup: s.backup,
        confirm: s.confirm,
        failoverAfterS: s.failoverAfterS,
      },
    },
  ]);
}

export function printerView(p: PrinterRow): {
  address: string;
  columns: number;
  profile: string;
  backup: string | null;
  confirm: 'status' | 'write';
  failoverAfterS: number;
} {
  return {
    address: p.address,
    columns: p.columns,
    profile: p.profile,
    backup: p.backup_id,
    confirm: p.confirm,
    failoverAfterS: p.failover_after_s,
  };
}
