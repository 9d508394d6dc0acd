import { adapterInfo } from '../core/channels.ts';
import type { OutboxRow } from '../store/rows.ts';
import type { ProviderAdapter, RenderedRequest, SendResult } from './types.ts';

/** What the LAN lane needs from the hub: put a row into each target device's durable inbox. */
export interface LanDelivery {
  /** Resolves target devices, appends to their inboxes and pushes to connected sockets. */
  deliver(row: OutboxRow): Promise<{ devices: string[] }>;
}

function build(row: OutboxRow): RenderedRequest {
  return {
    kind: 'lan',
    url: 'lan://hub/inbox',
    body: { target: row.target, title: row.title, body: row.body, source: row.source },
  };
}

/** The in_app adapter: local only, never touches the internet, never waits on an online provider. */
export function createLanHubAdapter(getHub: () => LanDelivery | null): ProviderAdapter {
  return {
    id: 'lan_hub',
    info: adapterInfo('lan_hub'),
    requiredEnv: [],
    missingEnv: () => [],
    render: build,
    async send(row: OutboxRow): Promise<SendResult> {
      const hub = getHub();
      if (!hub) {
        return {
          outcome: 'retryable',
          errorCode: 'lan_hub_not_running',
          errorMessage: 'the LAN hub is not running in this process',
          request: build(row),
        };
      }
      const { devices } = await hub.deliver(row);
      if (devices.length === 0) {
        return {
          outcome: 'permanent',
          errorCode: 'no_device',
          errorMessage: `no registered device matches ${row.target}`,
          request: build(row),
          finalStatus: 'blocked',
        };
      }
      return { outcome: 'sent', providerMessageId: null, request: build(row), response: { devices } };
    },
  };
}
