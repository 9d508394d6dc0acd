import { useId, useState, type FormEvent } from 'react';
import type { Key } from './i18n.ts';
import type { Pairing } from './storage.ts';

type T = (key: Key, params?: Record<string, string | number>) => string;

/** A code from the QR link (`/device#code=ABCD2345`), taken out of the address bar at once. */
function codeFromHash(): string {
  const m = /(?:^#|&)code=([A-Za-z0-9-]{1,32})/.exec(window.location.hash);
  if (!m) return '';
  history.replaceState(null, '', window.location.pathname + window.location.search);
  return m[1]!;
}

/** Pairing: staff type the owner's 8-character code; the hub answers with this screen's own token. */
export function PairScreen(props: { t: T; notice: Key | null; onPaired(p: Pairing): void }) {
  const { t } = props;
  const ids = { code: useId(), intro: useId(), err: useId() };
  const [code, setCode] = useState(codeFromHash);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await fetch('/api/v1/lan/pair', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: code.trim() }),
      });
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      if (res.status === 201) {
        props.onPaired({
          token: String(body.token),
          deviceId: String(body.deviceId),
          name: String(body.name),
          role: String(body.role),
        });
        return;
      }
      if (res.status === 429) setError(t('pair.rateLimited', { s: res.headers.get('retry-after') ?? '10' }));
      else setError(t('pair.invalid'));
    } catch {
      setError(t('pair.failed'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="dev__pair">
      <h2>{t('pair.heading')}</h2>
      {props.notice && (
        <p className="dev__banner dev__banner--warn" role="alert" data-testid="device-notice">
          {t(props.notice)}
        </p>
      )}
      <p id={ids.intro}>{t('pair.intro')}</p>
      <form onSubmit={(e) => void submit(e)} className="dev__form" data-testid="pair-form">
        <label htmlFor={ids.code}>{t('pair.code')}</label>
        <input
          id={ids.code}
          value={code}
          onChange={(e) => setCode(e.target.value.toUpperCase())}
          required
          maxLength={12}
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          inputMode="text"
          aria-describedby={error ? `${ids.intro} ${ids.err}` : ids.intro}
          aria-invalid={error ? true : undefined}
          className="dev__code"
          data-testid="pair-code"
        />
        <button
          type="submit"
          className="dev__btn dev__btn--primary"
          disabled={busy}
          data-testid="pair-submit"
        >
          {busy ? t('pair.busy') : t('pair.submit')}
        </button>
        {error && (
          <p id={ids.err} className="dev__error" role="alert" data-testid="pair-error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
