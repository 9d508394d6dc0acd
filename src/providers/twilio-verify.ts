import { adapterInfo } from '../core/channels.ts';
import type { OutboxRow } from '../store/rows.ts';
import { baseUrl, missingOf, valueOr, type AdapterDeps } from './common.ts';
import type { ProviderAdapter, RenderedRequest, SendResult, SendContext } from './types.ts';

const REQUIRED = ['OTP_PROVIDER', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_VERIFY_SERVICE_SID'] as const;

export function createTwilioVerifyAdapter(deps: AdapterDeps): ProviderAdapter {
  const { config, redactor } = deps;
  const build = (row: OutboxRow): RenderedRequest => {
    const basic = Buffer.from(`${valueOr(config, 'TWILIO_ACCOUNT_SID')}:${valueOr(config, 'TWILIO_AUTH_TOKEN')}`).toString('base64');
    return {
      kind: 'http',
      method: 'POST',
      url: `${baseUrl(config.env.TWILIO_VERIFY_BASE_URL)}/v2/Services/${valueOr(config, 'TWILIO_VERIFY_SERVICE_SID')}/Verifications`,
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: row.target, Channel: 'sms', Locale: row.locale ?? 'az' }).toString(),
    };
  };
  return {
    id: 'twilio_verify',
    info: adapterInfo('twilio_verify'),
    requiredEnv: REQUIRED,
    missingEnv: () => {
      const m = missingOf(config, REQUIRED);
      if (config.env.OTP_PROVIDER && config.env.OTP_PROVIDER !== 'twilio' && !m.includes('OTP_PROVIDER')) m.unshift('OTP_PROVIDER');
      return m;
    },
    // The Basic header hides the credentials in base64; redact the header whole.
    render: (row) => {
      const r = build(row);
      return redactor.scrubValue({ ...r, headers: { ...r.headers, authorization: 'Basic [REDACTED]' } });
    },
    async send(row: OutboxRow, _ctx: SendContext): Promise<SendResult> {
      return {
        outcome: 'permanent',
        errorCode: 'live_not_available',
        errorMessage: 'live Twilio sends are not available in this build',
        request: redactor.scrubValue(build(row)),
      };
    },
  };
}
