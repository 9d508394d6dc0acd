import type { Config } from '../config/config.ts';
import { isLanSafe, type Channel } from '../core/channels.ts';
import { decideSend, type GateDecision } from '../core/gate.ts';
import type { ProviderAdapter } from '../core/adapter.ts';

/** Gathers the gate's inputs from config, tenant policy and the adapter, then asks the pure gate. */
export function gateFor(
  config: Config,
  adapter: ProviderAdapter,
  optIns: Partial<Record<Channel, boolean>>,
  channel: Channel,
): GateDecision {
  const missingEnv = adapter.missingEnv();
  return decideSend({
    channel,
    runtime: config.runtime,
    externalSends: config.externalSends,
    providerConfigured: missingEnv.length === 0,
    missingEnv,
    tenantOptIn: optIns[channel] === true,
    pinnedDryRun: config.pinnedDryRun.has(adapter.id),
    lanSafe: isLanSafe(channel),
  });
}

/**
 * Whether the adapter sends for real: the gate's answer for a tenant opted in to its channel. The
 * dispatcher (lane set-up, pacing) and readiness ask this instead of restating the live-send rule.
 */
export function adapterIsLive(config: Config, adapter: ProviderAdapter): boolean {
  const channel = adapter.info.channel;
  return (
    !adapter.info.lanSafe && gateFor(config, adapter, { [channel]: true }, channel).kind === 'allow_live'
  );
}

export function modeOf(decision: GateDecision, channel: Channel): 'dry_run' | 'live' | 'lan' | null {
  if (isLanSafe(channel)) return 'lan';
  if (decision.kind === 'allow_live') return 'live';
  if (decision.kind === 'dry_run') return 'dry_run';
  return null;
}

export function statusOf(decision: GateDecision): 'ready' | 'queued' | 'blocked' {
  switch (decision.kind) {
    case 'allow_live':
    case 'dry_run':
      return 'ready';
    case 'queue':
      return 'queued';
    case 'block':
      return 'blocked';
  }
}
