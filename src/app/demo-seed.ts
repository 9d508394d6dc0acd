import { DEFAULT_TENANT_ID, type Config } from '../config/config.ts';
import type { OutboxService } from '../outbox/service.ts';
import type { Db } from '../store/driver.ts';
import { createTenant, getTenant } from '../store/tenants.ts';
import { newToken, storeToken } from '../store/tokens.ts';
import type { TenantRow } from '../store/rows.ts';
import { ensureDemoDevice } from '../lan/devices.ts';
import { toLocale, type Locale } from '../core/templates.ts';

export const DEMO_TENANT = {
  id: DEFAULT_TENANT_ID,
  name: 'MUPZA Demo Restaurant',
  country: 'AZ',
  currency: 'AZN',
  timezone: 'Asia/Baku',
  locale: 'az',
} as const;

/** The demo owner opted in to the LAN, email and OTP; WhatsApp and Telegram wait for the owner. */
const DEMO_OPT_INS = { in_app: true, email: true, otp_sms: true, whatsapp: false, telegram: false };

/** Next 21:00 in Baku (UTC+4, no DST): when the daily owner report goes out. */
export function nextDailyReportAt(now = new Date()): Date {
  const t = new Date(now);
  t.setUTCHours(17, 0, 0, 0);
  if (t.getTime() <= now.getTime()) t.setUTCDate(t.getUTCDate() + 1);
  return t;
}

export interface SeedResult {
  tenant: TenantRow;
  /** A freshly minted login token, when one was made (never the configured bootstrap token). */
  loginToken: string | null;
  createdSampleData: boolean;
}

/**
 * Ensures the demo tenant: created on first start outside production (or in any runtime when
 * COMMS_BOOTSTRAP_OWNER_TOKEN is set), with the seed page's four items enqueued through the real
 * pipeline so the readiness counts are real.
 */
export async function ensureDemoTenant(
  db: Db,
  config: Config,
  outbox: OutboxService,
): Promise<SeedResult | null> {
  const production = config.runtime === 'production';
  const bootstrap = config.env.COMMS_BOOTSTRAP_OWNER_TOKEN;
  if (production && !bootstrap) return null;

  let tenant = await getTenant(db, DEMO_TENANT.id);
  let createdSampleData = false;
  if (!tenant) {
    tenant =
      (await db.tx((q) => createTenant(q, { ...DEMO_TENANT, optIns: DEMO_OPT_INS }, 'system:demo-seed'))) ??
      (await getTenant(db, DEMO_TENANT.id));
    if (!tenant) throw new Error('demo tenant could not be created');
    if (!production) {
      // The device first: the sample kitchen ticket is delivered to its inbox, not blocked.
      await ensureDemoDevice(db, tenant.id);
      await seedSampleItems(outbox, tenant);
      createdSampleData = true;
    }
  }
  let loginToken: string | null = null;
  if (bootstrap) {
    await storeToken(db, {
      token: bootstrap,
      tenantId: tenant.id,
      role: 'owner',
      subject: 'demo-owner',
      label: 'COMMS_BOOTSTRAP_OWNER_TOKEN',
    });
  } else {
    loginToken = newToken('owner');
    await storeToken(db, {
      token: loginToken,
      tenantId: tenant.id,
      role: 'owner',
      subject: 'demo-owner',
      label: 'demo login link',
      expiresAt: new Date(Date.now() + config.env.SESSION_TTL_S * 1000),
    });
  }
  return { tenant, loginToken, createdSampleData };
}

/** The sample items' words in each language the product speaks: written in the tenant's locale. */
export const DEMO_SAMPLE_TEXT: Record<
  Locale,
  {
    kitchenTitle: string;
    kitchenBody: string;
    otpTitle: string;
    supportTitle: string;
    supportBody: string;
    reportTitle: string;
  }
> = {
  az: {
    kitchenTitle: 'Mətbəx sifarişi hazırdır',
    kitchenBody:
      'A-17 sifarişi 7-ci masa üçün hazırdır. Mətbəx bildirişi LAN-da qalır və xarici provayder tələb etmir.',
    otpTitle: 'Sahibin giriş kodu (OTP)',
    supportTitle: 'Domen quraşdırılmasına dəstək',
    supportBody:
      'Salam! MUPZAOS domeninizin quraşdırılması davam edir; köməyə ehtiyacınız olsa, buraya yazın.',
    reportTitle: 'Gündəlik sahib hesabatı',
  },
  ru: {
    kitchenTitle: 'Заказ с кухни готов',
    kitchenBody:
      'Заказ A-17 готов для стола 7. Уведомление кухни остаётся в LAN и не требует внешнего провайдера.',
    otpTitle: 'Код входа владельца (OTP)',
    supportTitle: 'Поддержка по настройке домена',
    supportBody: 'Здравствуйте! Настройка вашего домена MUPZAOS идёт; если нужна помощь, ответьте здесь.',
    reportTitle: 'Ежедневный отчёт владельцу',
  },
  en: {
    kitchenTitle: 'Kitchen ticket ready',
    kitchenBody:
      'Ticket A-17 is ready for table 7. Kitchen status notification stays on LAN and does not require external provider.',
    otpTitle: 'Owner login OTP',
    supportTitle: 'Domain setup support',
    supportBody: 'Hello! Your MUPZAOS domain setup is in progress; reply here if you need help.',
    reportTitle: 'Daily owner report',
  },
};

async function seedSampleItems(outbox: OutboxService, tenant: TenantRow): Promise<void> {
  const actor = { tenant, name: 'system:demo-seed' };
  // Written in the tenant's language, so the report's amount is formatted for it too (1.845,50 ₼).
  const locale = toLocale(tenant.locale, 'en');
  const text = DEMO_SAMPLE_TEXT[locale];
  await outbox.enqueue(
    {
      channel: 'in_app',
      target: 'pos-desktop-01',
      title: text.kitchenTitle,
      body: text.kitchenBody,
      source: 'kitchen_desktop',
      locale,
      idempotencyKey: 'demo-seed-kitchen-ticket',
    },
    actor,
  );
  await outbox.enqueue(
    {
      channel: 'otp_sms',
      target: '+994500000000',
      title: text.otpTitle,
      source: 'owner_panel',
      locale,
      idempotencyKey: 'demo-seed-owner-otp',
    },
    actor,
  );
  await outbox.enqueue(
    {
      channel: 'whatsapp',
      target: '+994500000001',
      title: text.supportTitle,
      body: text.supportBody,
      source: 'owner_panel',
      locale,
      idempotencyKey: 'demo-seed-domain-support',
    },
    actor,
  );
  await outbox.enqueue(
    {
      channel: 'email',
      target: 'owner@example.local',
      template: 'daily_owner_report',
      title: text.reportTitle,
      data: { date: new Date().toISOString().slice(0, 10), revenue: 1845.5, orders: 126 },
      source: 'owner_panel',
      locale,
      sendAt: nextDailyReportAt().toISOString(),
      idempotencyKey: `demo-seed-daily-report`,
    },
    actor,
  );
}
