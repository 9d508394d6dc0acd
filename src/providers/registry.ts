import type { AdapterId } from '../core/channels.ts';
import type { AdapterDeps } from './common.ts';
import { createFirebaseAuthAdapter } from './firebase-auth.ts';
import { createLanHubAdapter, type LanDelivery } from './lan-hub.ts';
import { createSmtpAdapter } from './smtp.ts';
import { createTelegramAdapter } from './telegram-bot.ts';
import { createTwilioVerifyAdapter } from './twilio-verify.ts';
import type { ProviderAdapter, ProviderRegistry } from '../core/adapter.ts';
import { createWhatsAppAdapter } from './whatsapp-cloud.ts';

export type { ProviderRegistry };

export function createRegistry(
  deps: AdapterDeps,
  opts: { lanHub: () => LanDelivery | null; overrides?: Partial<Record<AdapterId, ProviderAdapter>> },
): ProviderRegistry {
  const adapters: Record<AdapterId, ProviderAdapter> = {
    twilio_verify: createTwilioVerifyAdapter(deps),
    firebase_auth: createFirebaseAuthAdapter(deps),
    whatsapp_cloud: createWhatsAppAdapter(deps),
    telegram_bot: createTelegramAdapter(deps),
    smtp: createSmtpAdapter(deps),
    lan_hub: createLanHubAdapter(opts.lanHub),
    ...opts.overrides,
  };
  return {
    get: (id) => adapters[id],
    all: () => Object.values(adapters),
    forChannel(channel) {
      switch (channel) {
        case 'otp_sms':
          return deps.config.env.OTP_PROVIDER === 'firebase'
            ? adapters.firebase_auth
            : adapters.twilio_verify;
        case 'whatsapp':
          return adapters.whatsapp_cloud;
        case 'telegram':
          return adapters.telegram_bot;
        case 'email':
          return adapters.smtp;
        case 'in_app':
          return adapters.lan_hub;
      }
    },
    async close() {
      for (const a of Object.values(adapters)) await a.close?.();
    },
  };
}
