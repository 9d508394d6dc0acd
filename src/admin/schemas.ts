import { z } from 'zod';
import { DEVICE_ID_RE, DEVICE_ROLES } from '../lan/devices.ts';
import { TenantInfo } from '../http/api-schemas.ts';

/** Request and answer schemas of the operator API (/api/v1/admin/*), shared by the routes and the CLI. */

export const TenantId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, _ and - (max 63)');
const OwnerId = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lowercase letters, digits, . _ - (max 64)');
const DeviceId = z
  .string()
  .regex(DEVICE_ID_RE, 'lowercase letters, digits, . _ - (max 64), like pos-desktop-01');

export const TenantBody = z
  .object({
    id: TenantId,
    name: z.string().min(1).max(200),
    country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2, e.g. AZ'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217, e.g. AZN'),
    timezone: z.string().min(1).max(64).default('Asia/Baku'),
    locale: z.enum(['az', 'ru', 'en']).default('az'),
    ownerPhone: z
      .string()
      .min(1)
      .max(32)
      .optional()
      .describe(
        'E.164 phone the first owner signs in with by OTP or Firebase; opts the tenant in to otp_sms',
      ),
    otpAllowedPrefixes: z
      .array(z.string().regex(/^\+[1-9]\d{0,5}$/, 'a dialling prefix like +994'))
      .min(1)
      .max(20)
      .optional()
      .describe('OTP destination allow-list (default +994)'),
  })
  .strict();

export const TenantParams = z.object({ tenant: TenantId }).strict();

export const TenantList = z.object({
  tenants: z.array(TenantInfo.extend({ createdAt: z.string() })),
});

export const OwnerPhoneBody = z
  .object({
    phone: z.string().min(1).max(32).describe('E.164 phone, inside the tenant OTP allow-list'),
    ownerId: OwnerId.optional().describe('The owner the phone signs in as (default <tenant>-owner)'),
  })
  .strict();
export const OwnerPhoneParams = z.object({ tenant: TenantId, phone: z.string().min(1).max(32) }).strict();
export const OwnerPhoneAnswer = z.object({
  tenant: z.string(),
  ownerId: z.string(),
  phone: z.string().describe('Normalised E.164'),
});

export const WhatsAppNumberParams = z
  .object({ phoneNumberId: z.string().regex(/^[0-9]{1,32}$/, 'the digits of a WhatsApp phone_number_id') })
  .strict();
export const WhatsAppNumberBody = z.object({ tenant: TenantId }).strict();
export const WhatsAppNumberAnswer = z.object({ phoneNumberId: z.string(), tenant: z.string() });

export const DeviceBody = z
  .object({
    id: DeviceId,
    role: z.enum(DEVICE_ROLES),
    name: z.string().trim().min(1).max(100),
  })
  .strict();
export const DeviceParams = z.object({ tenant: TenantId, device: DeviceId }).strict();
export const DeviceAnswer = z.object({
  tenant: z.string(),
  id: z.string(),
  role: z.enum(DEVICE_ROLES),
  name: z.string(),
  token: z.string().describe('Shown once; only its hash is stored'),
});
export const DeviceTokenAnswer = z.object({
  tenant: z.string(),
  id: z.string(),
  token: z.string().describe('Shown once; the old token stops working'),
});
