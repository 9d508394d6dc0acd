/** A LAN device's id: what pairing and the API accept (also the target of an in_app message). */
export const DEVICE_ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** What a LAN device is for; targets (`role:kitchen`), the API, the store and the panel share this list. */
export const DEVICE_ROLES = ['pos', 'waiter', 'kitchen', 'printer'] as const;
export type DeviceRole = (typeof DEVICE_ROLES)[number];

export function isDeviceRole(v: string): v is DeviceRole {
  return (DEVICE_ROLES as readonly string[]).includes(v);
}
