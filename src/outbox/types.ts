import type { OutboxRow, TenantRow } from '../store/rows.ts';

export interface EnqueueResult {
  row: OutboxRow;
  created: boolean;
}

export interface Actor {
  tenant: TenantRow;
  /** e.g. owner:demo-owner, device:pos-desktop-01, system:demo-seed */
  name: string;
}
