import { z } from 'zod';
import { DEVICE_ID_RE } from '../core/devices.ts';
import { PROFILE_IDS } from './profiles.ts';

/** The `printer` object of a printer device (POST /api/v1/lan/devices, PATCH …/:id). */
export const PrinterSettingsBody = z
  .object({
    address: z.string().max(100).describe('tcp://<IP>:<port>, e.g. tcp://192.168.1.50:9100'),
    columns: z.number().int().min(16).max(96).default(48),
    profile: z.enum(PROFILE_IDS).default('epson-tm-t20iii'),
    backup: z
      .string()
      .regex(DEVICE_ID_RE)
      .nullable()
      .optional()
      .describe('Another printer device of the tenant'),
    confirm: z.enum(['status', 'write']).default('status'),
    failoverAfterS: z.number().int().min(1).max(3600).default(20),
  })
  .strict();
export type PrinterSettingsInput = z.infer<typeof PrinterSettingsBody>;

export const PrinterPatchBody = z
  .object({
    address: z.string().max(100).optional(),
    columns: z.number().int().min(16).max(96).optional(),
    profile: z.enum(PROFILE_IDS).optional(),
    backup: z.string().regex(DEVICE_ID_RE).nullable().optional(),
    confirm: z.enum(['status', 'write']).optional(),
    failoverAfterS: z.number().int().min(1).max(3600).optional(),
  })
  .strict();

export const PrinterView = z.object({
  address: z.string(),
  columns: z.number(),
  profile: z.string(),
  backup: z.string().nullable(),
  confirm: z.enum(['status', 'write']),
  failoverAfterS: z.number(),
});
