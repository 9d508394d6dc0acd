import { ADAPTER_IDS } from '../core/channels.ts';
import { createRedactor } from '../core/redact.ts';
import { createRegistry } from '../providers/registry.ts';
import { runVerification, VerifyUnsupportedError } from '../providers/verification.ts';
import { setTelegramWebhook, WebhookRegistrationError } from '../webhooks/registration.ts';
import type { CliCommand } from './command.ts';
import { reach } from './service-link.ts';

// On-demand provider credential check; sends no message. Exit 0 = verified, 1 = refused.
export const providersCommand: CliCommand = async (args, config) => {
  const id = args[1];
  if (args[0] !== 'verify' || !id) {
    console.error(
      `usage: mupza-comms providers verify <${ADAPTER_IDS.filter((a) => a !== 'lan_hub').join('|')}> [--json]`,
    );
    return 2;
  }
  const adapterId = ADAPTER_IDS.find((a) => a === id);
  if (!adapterId) {
    console.error(`No adapter "${id.replace(/[^a-z0-9_]/g, '')}". Adapters: ${ADAPTER_IDS.join(', ')}.`);
    return 2;
  }
  const cfg = config();
  const redactor = createRedactor(cfg.secrets);
  const registry = createRegistry({ config: cfg, redactor }, { lanHub: () => null });
  try {
    const r = await runVerification(
      registry.get(adapterId),
      cfg.env.COMMS_PROVIDER_TIMEOUT_MS + 1_000,
      redactor,
    );
    console.log(
      args.includes('--json')
        ? JSON.stringify(r, null, 2)
        : `${adapterId}: ${r.ok ? 'verified' : 'NOT verified'} at ${r.at} — ${r.detail}`,
    );
    return r.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof VerifyUnsupportedError) {
      console.error(`${adapterId} has no credentials to check.`);
      return 2;
    }
    throw err;
  } finally {
    await registry.close();
  }
};

// Registers BACKEND_PUBLIC_URL/telegram/webhook/<secret> with Telegram (secret_token = the same
// secret) and records it for readiness. Exit 0 = registered, 1 = refused, 2 = usage/config.
export const telegramCommand: CliCommand = async (args, config) => {
  if (args[0] !== 'set-webhook') {
    console.error('usage: mupza-comms telegram set-webhook');
    return 2;
  }
  const cfg = config();
  const redactor = createRedactor(cfg.secrets);
  const target = await reach(args, cfg, 'telegram set-webhook');
  if (target.kind === 'service') {
    const held = target.holder
      ? ` (pid ${target.holder.pid}) holds ${cfg.env.DATA_DIR}`
      : ` at ${target.url} was named`;
    console.error(`The service${held}: stop it, then run telegram set-webhook again.`);
    return 1;
  }
  const db = target.db;
  try {
    const r = await setTelegramWebhook(db, cfg, redactor);
    console.log(`Telegram webhook registered: ${r.url} at ${r.at.toISOString()}`);
    return 0;
  } catch (err) {
    if (!(err instanceof WebhookRegistrationError)) throw err;
    console.error(redactor.scrub(err.message));
    return err.message.startsWith('not configured') ? 2 : 1;
  } finally {
    await db.close();
  }
};
