import { z } from 'zod';
import { DEVICE_ID_RE } from './devices.ts';

/** What the LAN routes share: the device id format and the OpenAPI tag. */
export const DeviceId = z
  .string()
  .regex(DEVICE_ID_RE, 'lowercase letters, digits, . _ - (max 64), like pos-desktop-01');
export const tags = ['lan'];
