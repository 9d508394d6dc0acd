import { useId, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import type { Me } from '../types.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

/** Non-production sign-in with an owner token (a #token= login link does the same on load). */
export function TokenSignIn(props: { onSignedIn(token: string, me: Me): void }) {
  const { t } = useI18n();
  const headingId = useId();
  const inputId = useId();
  const hintId = useId();
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = token.trim();
    setBusy(true);
    setError(null);
    try {
      const me = await api.meWithToken(value);
      props.onSignedIn(value, me);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="signin-block" aria-labelledby={headingId} data-testid="token-signin">
      <h2 id={headingId}>{t('signin.tokenHeading')}</h2>
      <form onSubmit={(e) => void submit(e)} className="form">
        <label htmlFor={inputId}>{t('signin.token')}</label>
        <input
          id={inputId}
          type="password"
          autoComplete="off"
          spellCheck={false}
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby={hintId}
          data-testid="token-input"
        />
        <p id={hintId} className="hint">
          {t('signin.tokenHint')}
        </p>
        <button type="submit" className="btn" disabled={busy} data-testid="token-submit">
          {busy ? t('signin.working') : t('signin.tokenSubmit')}
        </button>
      </form>
      <ErrorMessage error={error} testId="token-error" />
    </section>
  );
}
