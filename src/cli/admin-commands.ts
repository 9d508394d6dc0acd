import {
  addTenantDevice,
  addTenantOwnerPhone,
  createTenantWithOwner,
  listTenants,
  mapWhatsAppNumber,
  newTenantDeviceToken,
  removeTenantOwnerPhone,
} from '../admin/operations.ts';
import type { Config } from '../config/config.ts';
import { flag, type CliCommand } from './command.ts';
import { runOperatorAction } from './service-link.ts';

// Operator actions: through the running service when it holds the embedded store, else on the
// store itself under DATA_DIR's lock (src/cli/service-link.ts).

export const tenantCommand: CliCommand = async (args, config) => {
  if (args[0] === 'list') {
    return runOperatorAction(args, config(), {
      command: 'tenant list',
      method: 'GET',
      path: '/api/v1/admin/tenants',
      store: (db) => listTenants(db),
    });
  }
  if (args[0] !== 'create') {
    console.error(
      'usage: mupza-comms tenant create --id ID --name NAME [--country AZ] [--currency AZN] [--timezone Asia/Baku] [--locale az] [--owner-phone +994…] [--otp-prefixes +994,…] [--url URL]',
    );
    console.error('       mupza-comms tenant list [--url URL]');
    return 2;
  }
  const id = flag(args, 'id');
  const name = flag(args, 'name');
  if (!id || !name) {
    console.error('--id (lowercase, digits, _ -) and --name are required');
    return 2;
  }
  const prefixes = flag(args, 'otp-prefixes');
  const body = {
    id,
    name,
    country: flag(args, 'country') ?? 'AZ',
    currency: flag(args, 'currency') ?? 'AZN',
    timezone: flag(args, 'timezone') ?? 'Asia/Baku',
    locale: flag(args, 'locale') ?? 'az',
    ...(flag(args, 'owner-phone') === undefined ? {} : { ownerPhone: flag(args, 'owner-phone') }),
    ...(prefixes === undefined
      ? {}
      : {
          otpAllowedPrefixes: prefixes
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        }),
  };
  return runOperatorAction(args, config(), {
    command: 'tenant create',
    method: 'POST',
    path: '/api/v1/admin/tenants',
    body,
    store: (db) => createTenantWithOwner(db, body, 'operator:cli'),
  });
};

export const ownerCommand: CliCommand = async (args, config) => {
  const tenant = flag(args, 'tenant');
  const phone = flag(args, 'phone');
  const op = args[0] === 'phone' ? args[1] : undefined;
  if ((op !== 'add' && op !== 'remove') || !tenant || !phone) {
    console.error('usage: mupza-comms owner phone add --tenant ID --phone +994… [--owner-id ID] [--url URL]');
    console.error('       mupza-comms owner phone remove --tenant ID --phone +994… [--url URL]');
    return 2;
  }
  const t = encodeURIComponent(tenant);
  if (op === 'add') {
    const ownerId = flag(args, 'owner-id');
    const body = { phone, ...(ownerId === undefined ? {} : { ownerId }) };
    return runOperatorAction(args, config(), {
      command: 'owner phone add',
      method: 'POST',
      path: `/api/v1/admin/tenants/${t}/owner-phones`,
      body,
      store: (db) => addTenantOwnerPhone(db, { tenant }, body, 'operator:cli'),
    });
  }
  return runOperatorAction(args, config(), {
    command: 'owner phone remove',
    method: 'DELETE',
    path: `/api/v1/admin/tenants/${t}/owner-phones/${encodeURIComponent(phone)}`,
    store: (db) => removeTenantOwnerPhone(db, { tenant, phone }, 'operator:cli'),
    done: { removed: { tenant, phone } },
  });
};

// Routes WhatsApp webhooks of a phone_number_id to a tenant (without a mapping, only the number in
// WHATSAPP_PHONE_NUMBER_ID is routed, to the demo tenant).
export const whatsappCommand: CliCommand = async (args, config) => {
  const phone = flag(args, 'phone-number-id');
  const tenant = flag(args, 'tenant');
  if (args[0] !== 'map-number' || !phone || !tenant) {
    console.error('usage: mupza-comms whatsapp map-number --phone-number-id DIGITS --tenant ID [--url URL]');
    return 2;
  }
  const body = { tenant };
  return runOperatorAction(args, config(), {
    command: 'whatsapp map-number',
    method: 'PUT',
    path: `/api/v1/admin/whatsapp/numbers/${encodeURIComponent(phone)}`,
    body,
    store: (db) => mapWhatsAppNumber(db, { phoneNumberId: phone }, body, 'operator:cli'),
  });
};

/** device add / device token: operator actions on a tenant's LAN devices. */
export async function deviceAdmin(args: string[], config: () => Config): Promise<number> {
  const tenant = flag(args, 'tenant');
  const id = flag(args, 'id');
  if (!tenant || !id) {
    console.error(
      'usage: mupza-comms device add --tenant ID --id DEVICE --role pos|waiter|kitchen|printer --name NAME [--url URL]',
    );
    console.error('       mupza-comms device token --tenant ID --id DEVICE [--url URL]');
    return 2;
  }
  const t = encodeURIComponent(tenant);
  if (args[0] === 'add') {
    const body = { id, role: flag(args, 'role'), name: flag(args, 'name') };
    return runOperatorAction(args, config(), {
      command: 'device add',
      method: 'POST',
      path: `/api/v1/admin/tenants/${t}/devices`,
      body,
      store: (db) => addTenantDevice(db, { tenant }, body, 'operator:cli'),
    });
  }
  return runOperatorAction(args, config(), {
    command: 'device token',
    method: 'POST',
    path: `/api/v1/admin/tenants/${t}/devices/${encodeURIComponent(id)}/token`,
    store: (db) => newTenantDeviceToken(db, { tenant, device: id }, 'operator:cli'),
  });
}
