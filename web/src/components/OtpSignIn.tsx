import { useCallback, useId, useState, type FormEvent } from 'react';
import { ApiError, api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import type { Me } from '../types.ts';
import { useCountdown } from '../useCountdown.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { TurnstileWidget } from './TurnstileWidget.tsx';

/**
 * Phone + one-time code. OTP is online-only: when the server cannot send (503 otp_unavailable)
 * its message is shown as is; a 429 shows when to try again.
 */
export function OtpSignIn(props: {
  /** Why no code can be sent now (from /api/v1/auth/config); null when one can or not yet known. */
  otpMissing: 'provider' | 'provider_env' | null;
  /** Cloudflare Turnstile site key: when set, the human check is shown and its token sent with the start. */
  turnstileSiteKey?: string | null | undefined;
  onSignedIn(token: string, me: Me): void;
}) {
  const { t, lang } = useI18n();
  const [humanToken, setHumanToken] = useState<string | null>(null);
  // Tokens are single use: every attempt gets a fresh widget.
  const [widgetKey, setWidgetKey] = useState(0);
  const onHumanToken = useCallback((token: string | null) => setHumanToken(token), []);
  const headingId = useId();
  const phoneId = useId();
  const phoneHintId = useId();
  const codeId = useId();
  const unavailableId = useId();
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [verificationId, setVerificationId] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [retryUntil, setRetryUntil] = useState<number | null>(null);
  const wait = useCountdown(retryUntil);

  const fail = (err: unknown) => {
    setError(err);
    if (err instanceof ApiError && err.status === 429)
      setRetryUntil(Date.now() + (err.retryAfter ?? 60) * 1000);
  };

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api.otpStart(phone.trim(), humanToken);
      setVerificationId(res.verificationId);
      setCode('');
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
      if (props.turnstileSiteKey) {
        setHumanToken(null);
        setWidgetKey((k) => k + 1);
      }
    }
  };

  const check = async (e: FormEvent) => {
    e.preventDefault();
    if (!verificationId) return;
    setBusy(true);
    setError(null);
    try {
      const { token } = await api.otpCheck(verificationId, code.trim());
      const me = await api.meWithToken(token);
      props.onSignedIn(token, me);
    } catch (err) {
      fail(err);
      // An expired or used verification cannot be checked again: back to the phone step.
      if (err instanceof ApiError && err.code === 'otp_expired') setVerificationId(null);
    } finally {
      setBusy(false);
    }
  };

  const blocked = busy || wait > 0;
  return (
    <section className="signin-block" aria-labelledby={headingId} data-testid="otp-signin">
      <h2 id={headingId}>{t('signin.otpHeading')}</h2>
      <p className="muted small">{t('signin.otpOnline')}</p>
      {props.otpMissing !== null && (
        <p
          className="notice"
          id={unavailableId}
          data-testid="otp-not-configured"
          data-missing={props.otpMissing}
        >
          {t(props.otpMissing === 'provider' ? 'signin.otpNotConfigured' : 'signin.otpEnvIncomplete')}
        </p>
      )}
      {verificationId === null ? (
        <form onSubmit={(e) => void start(e)} className="form" data-testid="otp-start-form">
          <label htmlFor={phoneId}>{t('signin.phone')}</label>
          <input
            id={phoneId}
            type="tel"
            inputMode="tel"
            autoComplete="tel"
            required
            value={phone}
            onChange={(e) => setPhone(e.target.value)}
            aria-describedby={phoneHintId}
            placeholder="+994501234567"
            data-testid="otp-phone"
          />
          <p id={phoneHintId} className="hint">
            {t('signin.phoneHint')}
          </p>
          {props.turnstileSiteKey && (
            <TurnstileWidget
              key={widgetKey}
              siteKey={props.turnstileSiteKey}
              lang={lang}
              onToken={onHumanToken}
            />
          )}
          <button
            type="submit"
            className="btn btn--primary"
            disabled={blocked || props.otpMissing !== null}
            aria-describedby={props.otpMissing !== null ? unavailableId : undefined}
            data-testid="otp-send"
          >
            {busy ? t('signin.working') : t('signin.sendCode')}
          </button>
        </form>
      ) : (
        <form onSubmit={(e) => void check(e)} className="form" data-testid="otp-check-form">
          <p role="status">{t('signin.codeSent', { phone })}</p>
          <label htmlFor={codeId}>{t('signin.code')}</label>
          <input
            id={codeId}
            type="text"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
            data-testid="otp-code"
          />
          <div className="actions">
            <button type="submit" className="btn btn--primary" disabled={blocked} data-testid="otp-verify">
              {busy ? t('signin.working') : t('signin.verify')}
            </button>
            <button type="button" className="btn" onClick={() => setVerificationId(null)}>
              {t('signin.startOver')}
            </button>
          </div>
        </form>
      )}
      <ErrorMessage error={error} testId="otp-error" />
      {wait > 0 && (
        <p className="error" data-testid="otp-retry-after">
          {t('signin.retryAfter', { s: wait })}
        </p>
      )}
    </section>
  );
}
