import { describe, expect, it } from 'vitest';
import { CHANNELS, isLanSafe } from '../../src/core/channels.ts';
import { decideSend, type GateInput, type Runtime } from '../../src/core/gate.ts';

const RUNTIMES: Runtime[] = ['qa', 'development', 'production'];
const SENDS = ['enabled', 'disabled'] as const;
const BOOL = [true, false];

/** The documented rules (README "Send gate"), written as a table of expectations. */
function expected(i: GateInput): 'allow_live' | 'dry_run' | 'queue' | 'block' {
  const liveWanted = i.runtime === 'production' && i.externalSends === 'enabled';
  if (i.lanSafe) return i.tenantOptIn ? 'allow_live' : 'queue';
  if (i.channel === 'otp_sms' && (!i.providerConfigured || !i.tenantOptIn)) return 'block';
  if (!i.tenantOptIn) return 'queue';
  if (liveWanted && !i.providerConfigured && !i.pinnedDryRun) return 'queue';
  if (liveWanted && i.providerConfigured && !i.pinnedDryRun) return 'allow_live';
  return 'dry_run';
}

const cases: GateInput[] = [];
for (const channel of CHANNELS)
  for (const runtime of RUNTIMES)
    for (const externalSends of SENDS)
      for (const providerConfigured of BOOL)
        for (const tenantOptIn of BOOL)
          for (const pinnedDryRun of BOOL)
            cases.push({
              channel,
              runtime,
              externalSends,
              providerConfigured,
              missingEnv: providerConfigured ? [] : ['SOME_ENV'],
              tenantOptIn,
              pinnedDryRun,
              lanSafe: isLanSafe(channel),
            });

describe('send gate matrix', () => {
  it('covers every combination of channel, runtime, sends switch, env, opt-in and pinning', () => {
    expect(cases).toHaveLength(5 * 3 * 2 * 2 * 2 * 2);
  });

  it.each(
    cases.map(
      (c) =>
        [
          `${c.channel} ${c.runtime} sends=${c.externalSends} env=${c.providerConfigured} optIn=${c.tenantOptIn} pinned=${c.pinnedDryRun}`,
          c,
        ] as const,
    ),
  )('%s', (_name, input) => {
    const d = decideSend(input);
    expect(d.kind).toBe(expected(input));
    expect(d.reason.length).toBeGreaterThan(0);
    if (d.kind !== 'allow_live') {
      // The reason names what is missing, never a silent drop.
      if (!input.tenantOptIn) expect(d.reason).toContain('opt-in');
      if (!input.lanSafe && !input.providerConfigured) expect(d.reason).toMatch(/env/);
      if (d.kind === 'dry_run' && input.runtime !== 'production')
        expect(d.reason).toContain(`runtime is ${input.runtime}`);
      if (d.kind === 'dry_run' && input.externalSends === 'disabled')
        expect(d.reason).toContain('COMMS_EXTERNAL_SENDS');
      if (d.kind === 'dry_run' && input.pinnedDryRun) expect(d.reason).toContain('COMMS_DRY_RUN_ADAPTERS');
    }
  });

  it('allows a live online send only when every condition holds', () => {
    const live = cases.filter((c) => !c.lanSafe && decideSend(c).kind === 'allow_live');
    expect(live.length).toBe(4);
    for (const c of live) {
      expect(c).toMatchObject({
        runtime: 'production',
        externalSends: 'enabled',
        providerConfigured: true,
        tenantOptIn: true,
        pinnedDryRun: false,
      });
    }
  });

  it('never queues OTP', () => {
    for (const c of cases.filter((x) => x.channel === 'otp_sms'))
      expect(decideSend(c).kind).not.toBe('queue');
  });

  it('is pure: the same input gives the same decision', () => {
    for (const c of cases) expect(decideSend(c)).toEqual(decideSend({ ...c }));
  });
});
