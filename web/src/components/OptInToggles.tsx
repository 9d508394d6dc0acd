import { useId, useState } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import { CHANNELS, type Channel } from '../types.ts';
import { useLoad } from '../useLoad.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';

/** The tenant's per-channel opt-ins; each change is confirmed first (the server audits it). */
export function OptInToggles() {
  const { t } = useI18n();
  const headingId = useId();
  const policy = useLoad(() => api.policy(), []);
  const [pending, setPending] = useState<{ channel: Channel; on: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState('');
  const optIns = policy.data?.optIns ?? null;

  const save = async () => {
    if (!pending || !optIns) return;
    setBusy(true);
    setError(null);
    try {
      const next = await api.putPolicy({ ...optIns, [pending.channel]: pending.on });
      policy.setData(next);
      const state = t('optins.saved', {
        channel: t(`channel.${pending.channel}`),
        state: pending.on ? t('optins.on') : t('optins.off'),
      });
      const moved = next.reevaluated ? ` ${t('optins.reevaluated', { n: next.reevaluated })}` : '';
      setSaved(state + moved);
      setPending(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby={headingId} data-testid="optins">
      <h2 id={headingId}>{t('optins.heading')}</h2>
      <p className="muted small">{t('optins.intro')}</p>
      <ErrorMessage error={policy.error} testId="optins-error" />
      {optIns && (
        <ul className="list-reset toggles">
          {CHANNELS.map((c) => {
            const on = optIns[c] === true;
            return (
              <li key={c}>
                <label className="switch">
                  <input
                    type="checkbox"
                    role="switch"
                    checked={on}
                    onChange={() => {
                      setError(null);
                      setPending({ channel: c, on: !on });
                    }}
                    data-testid={`optin-${c}`}
                  />
                  <span className="switch__track" aria-hidden="true" />
                  <span className="switch__label">{t(`channel.${c}`)}</span>
                  <span className={`badge badge--${on ? 'ok' : 'muted'}`} aria-hidden="true">
                    {on ? t('optins.on') : t('optins.off')}
                  </span>
                </label>
              </li>
            );
          })}
        </ul>
      )}
      <p className="muted small" role="status" data-testid="optins-result">
        {saved}
      </p>
      {pending && (
        <ConfirmDialog
          title={t(pending.on ? 'optins.enableTitle' : 'optins.disableTitle', {
            channel: t(`channel.${pending.channel}`),
          })}
          body={t(pending.on ? 'optins.enableBody' : 'optins.disableBody')}
          busy={busy}
          error={error}
          onConfirm={() => void save()}
          onCancel={() => setPending(null)}
        />
      )}
    </section>
  );
}
