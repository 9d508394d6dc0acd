import { useId, useMemo, useState, type FormEvent } from 'react';
import { renderSVG } from 'uqr';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import { ROLES, type Role } from '../types.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

/**
 * "Pair a device": the owner picks role and name and gets a single-use code with a QR of the device
 * link. The code lives only in this component's state until dismissed (the server never lists it).
 */
export function PairForm(props: { onPaired(): void }) {
  const { t, date } = useI18n();
  const ids = { role: useId(), name: useId(), head: useId(), code: useId() };
  const [role, setRole] = useState<Role>('kitchen');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [made, setMade] = useState<{ code: string; expiresAt: string; url: string } | null>(null);
  const qr = useMemo(() => (made ? renderSVG(made.url, { border: 2 }) : ''), [made]);
  const deviceUrl = `${window.location.origin}/device`;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setMade(await api.createPairing({ role, name: name.trim() }));
      setName('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="subcard pair" aria-labelledby={ids.head} data-testid="pair-panel">
      <h3 id={ids.head}>{t('devices.pairHeading')}</h3>
      <p className="muted small">{t('devices.pairIntro', { url: deviceUrl })}</p>
      {made ? (
        <div className="result" role="status" data-testid="pair-result">
          <p className="pair__label" id={ids.code}>
            {t('devices.pairCode')}
          </p>
          <p className="pair__code" aria-labelledby={ids.code} data-testid="pair-code-shown">
            {made.code}
          </p>
          <p className="muted small">{t('devices.pairExpires', { time: date(made.expiresAt) })}</p>
          <div
            className="pair__qr"
            role="img"
            aria-label={t('devices.pairQr')}
            data-testid="pair-qr"
            data-url={made.url}
            // uqr renders plain SVG rects from the URL; no user markup goes in.
            dangerouslySetInnerHTML={{ __html: qr }}
          />
          <button
            type="button"
            className="btn"
            onClick={() => {
              setMade(null);
              props.onPaired();
            }}
            data-testid="pair-done"
          >
            {t('devices.pairDone')}
          </button>
        </div>
      ) : (
        <form className="form" onSubmit={(e) => void submit(e)} data-testid="pair-create-form">
          <label htmlFor={ids.role}>{t('devices.role')}</label>
          <select
            id={ids.role}
            value={role}
            onChange={(e) => setRole(e.target.value as Role)}
            data-testid="pair-role"
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}`)}
              </option>
            ))}
          </select>
          <label htmlFor={ids.name}>{t('devices.name')}</label>
          <input
            id={ids.name}
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-testid="pair-name"
          />
          <button type="submit" className="btn btn--primary" disabled={busy} data-testid="pair-create">
            {t('devices.pair')}
          </button>
          <ErrorMessage error={error} testId="pair-create-error" />
        </form>
      )}
    </section>
  );
}
