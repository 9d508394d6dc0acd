import { auditCommand } from './audit-command.ts';
import { ownerCommand, tenantCommand, whatsappCommand } from './admin-commands.ts';
import { backupCommand, restoreCommand } from './backup.ts';
import type { CliCommand } from './command.ts';
import { deviceCommand } from './device-command.ts';
import { outboxCommand, sendCommand } from './outbox-commands.ts';
import { printerCommand } from './printer-fake.ts';
import { providersCommand, telegramCommand } from './provider-commands.ts';

export type { CliCommand };

/** Sub-commands beyond serve/migrate/readiness; other modules add theirs here. */
export const cliCommands: Record<string, CliCommand> = {
  backup: backupCommand,
  restore: restoreCommand,
  tenant: tenantCommand,
  owner: ownerCommand,
  audit: auditCommand,
  send: sendCommand,
  outbox: outboxCommand,
  providers: providersCommand,
  telegram: telegramCommand,
  whatsapp: whatsappCommand,
  device: deviceCommand,
  // A test ESC/POS network printer: tickets it prints go to stdout.
  printer: (args) => printerCommand(args),
};
