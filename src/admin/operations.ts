import type { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { normalizeE164 } from '../core/target.ts';
import { parseWith } from '../http/errors.ts';
import { registerDevice, rotateDeviceToken } from '../lan/devices.ts';
import {
  addOwnerPhone,
  DEFAULT_OTP_PREFIXES,
  ownerPhoneProblem,
  removeOwnerPhone,
  setupOwnerLogin,
} from '../otp/owners.ts';
import type { Db } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { createTenant, getTenant, tenantView } from '../store/tenants.ts';
import { newToken, storeToken } from '../store/tokens.ts';
import { mapPhoneNumber } from '../webhooks/routing.ts';
import {
  DeviceAnswer,
  DeviceBody,
  DeviceParams,
  DeviceTokenAnswer,
  OwnerPhoneAnswer,
  OwnerPhoneBody,
  OwnerPhoneParams,
  TenantBody,
  TenantList,
  TenantParams,
  WhatsAppNumberAnswer,
  WhatsAppNumberBody,
  WhatsAppNumberParams,
} from './schemas.ts';
import type { TenantCreated } from '../http/api-schemas.ts';

/**
 * The operator's actions on a store. The admin routes and the CLI (when no service holds the
 * embedded store) run the same functions on the same raw input, so both validate alike and answer
 * alike. Each throws AppError with a stable code.
 */

type Out<T extends z.ZodType> = z.output<T>;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function phoneOf(raw: string, field: string): string {
  try {
    return normalizeE164(raw);
  } catch {
    throw new AppError('validation_failed', `${field}: not an E.164 phone number like +994501234567`, {
      details: { field },
    });
  }
}

async function tenantOrNotFound(db: Db, id: string) {
  const t = await getTenant(db, id);
  if (!t) throw new AppError('not_found', `No tenant "${id}".`);
  return t;
}

/** A tenant and its first owner token (shown once). */
export async function createTenantWithOwner(
  db: Db,
  input: unknown,
  actor: string,
): Promise<Out<typeof TenantCreated>> {
  const body = parseWith(TenantBody, input);
  if (!validTimeZone(body.timezone))
    throw new AppError('validation_failed', 'timezone: not a known IANA time zone');
  const { ownerPhone: rawPhone, otpAllowedPrefixes, ...tenantFields } = body;
  const ownerPhone = rawPhone === undefined ? undefined : normalizeE164(rawPhone);
  const phoneProblem =
    ownerPhone && ownerPhoneProblem(ownerPhone, otpAllowedPrefixes ?? DEFAULT_OTP_PREFIXES);
  if (phoneProblem)
    throw new AppError('validation_failed', phoneProblem, { details: { field: 'ownerPhone' } });
  const ownerToken = newToken('owner');
  const tenant = await db.tx(async (q) => {
    // An owner phone is given for OTP sign-in, so the tenant is opted in to otp_sms with it.
    const t = await createTenant(
      q,
      { ...tenantFields, optIns: { in_app: true, ...(ownerPhone ? { otp_sms: true } : {}) } },
      actor,
    );
    if (!t) return null;
    await storeToken(q, {
      token: ownerToken,
      tenantId: t.id,
      role: 'owner',
      subject: `${t.id}-owner`,
      label: `created by ${actor}`,
    });
    await setupOwnerLogin(q, {
      tenantId: t.id,
      ownerId: `${t.id}-owner`,
      phone: ownerPhone,
      prefixes: otpAllowedPrefixes,
      actor,
    });
    return t;
  });
  if (!tenant) throw new AppError('conflict', `A tenant with id "${body.id}" already exists.`);
  return {
    tenant: tenantView(tenant),
    ownerToken,
  };
}

export async function listTenants(db: Db): Promise<Out<typeof TenantList>> {
  const r = await db.query<{
    id: string;
    name: string;
    country: string;
    currency: string;
    timezone: string;
    locale: string;
    created_at: Date;
  }>('SELECT id, name, country, currency, timezone, locale, created_at FROM tenants ORDER BY id');
  return {
    tenants: r.rows.map(({ created_at, ...t }) => ({ ...t, createdAt: new Date(created_at).toISOString() })),
  };
}

/** Gives an owner of the tenant a phone to sign in with (inside the tenant's OTP allow-list). */
export async function addTenantOwnerPhone(
  db: Db,
  params: unknown,
  input: unknown,
  actor: string,
): Promise<Out<typeof OwnerPhoneAnswer>> {
  const { tenant: tenantId } = parseWith(TenantParams, params);
  const body = parseWith(OwnerPhoneBody, input);
  const phone = phoneOf(body.phone, 'phone');
  const tenant = await tenantOrNotFound(db, tenantId);
  const problem = ownerPhoneProblem(phone, tenant.otp_allowed_prefixes ?? DEFAULT_OTP_PREFIXES);
  if (problem)
    throw new AppError('validation_failed', problem.replace('ownerPhone', 'phone'), {
      details: { field: 'phone' },
    });
  const ownerId = body.ownerId ?? `${tenantId}-owner`;
  const added = await db.tx((q) => addOwnerPhone(q, { tenantId, ownerId, phone, actor }), { tenantId });
  if (!added) throw new AppError('conflict', 'This phone already belongs to an owner of the tenant.');
  return { tenant: tenantId, ownerId, phone };
}

/** Takes a sign-in phone away (sessions it already opened run until they expire or are revoked). */
export async function removeTenantOwnerPhone(db: Db, params: unknown, actor: string): Promise<void> {
  const p = parseWith(OwnerPhoneParams, params);
  const phone = phoneOf(p.phone, 'phone');
  await tenantOrNotFound(db, p.tenant);
  const removed = await db.tx((q) => removeOwnerPhone(q, { tenantId: p.tenant, phone, actor }), {
    tenantId: p.tenant,
  });
  if (!removed) throw new AppError('not_found', 'No owner of the tenant has this phone.');
}

/** Routes WhatsApp webhooks of a phone_number_id to a tenant (re-mapping moves it). */
export async function mapWhatsAppNumber(
  db: Db,
  params: unknown,
  input: unknown,
  actor: string,
): Promise<Out<typeof WhatsAppNumberAnswer>> {
  const { phoneNumberId } = parseWith(WhatsAppNumberParams, params);
  const { tenant } = parseWith(WhatsAppNumberBody, input);
  await tenantOrNotFound(db, tenant);
  // No tenant scope (row-level security): re-mapping moves a number away from another tenant's row.
  await db.tx(async (q) => {
    await mapPhoneNumber(q, phoneNumberId, tenant);
    await appendAudit(q, [
      {
        tenantId: tenant,
        entity: 'tenant',
        entityId: tenant,
        actor,
        action: 'whatsapp_number_mapped',
        detail: { phoneNumberId },
      },
    ]);
  });
  return { phoneNumberId, tenant };
}

/** Registers a LAN device of the tenant and mints its token (shown once). */
export async function addTenantDevice(
  db: Db,
  params: unknown,
  input: unknown,
  actor: string,
): Promise<Out<typeof DeviceAnswer>> {
  const { tenant: tenantId } = parseWith(TenantParams, params);
  const body = parseWith(DeviceBody, input);
  await tenantOrNotFound(db, tenantId);
  const { device, token } = await db.tx((q) => registerDevice(q, { tenantId, ...body, actor }), { tenantId });
  return { tenant: tenantId, id: device.id, role: device.role, name: device.name, token };
}

/** A new token for a device (the old one stops working; its inbox is kept). */
export async function newTenantDeviceToken(
  db: Db,
  params: unknown,
  actor: string,
): Promise<Out<typeof DeviceTokenAnswer>> {
  const p = parseWith(DeviceParams, params);
  await tenantOrNotFound(db, p.tenant);
  const token = await db.tx((q) => rotateDeviceToken(q, p.tenant, p.device, actor), { tenantId: p.tenant });
  return { tenant: p.tenant, id: p.device, token };
}
