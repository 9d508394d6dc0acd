import { useEffect, useId, useState } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import { useLoad } from '../useLoad.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { Badge } from './StatusBadge.tsx';

/** How often the printers' live state is re-read while the page is open. */
const REFRESH_MS = 5_000;

/**
 * Kitchen printers' live state (online / offline with the reason, waiting tickets) and the tickets
 * held after an outage, each with release and discard (both audited by the server).
 */
export function PrinterList(props: { reloadKey: number }) {
  const { t, tv, date } = useI18n();
  const headingId = useId();
  const printers = useLoad(() => api.printers(), [props.reloadKey]);
  const [busy, setBusy] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const reload = printers.reload;
  useEffect(() => {
    const timer = setInterval(() => void reload(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const data = printers.data;
  if (!data || (data.printers.length === 0 && data.held.length === 0)) {
    return <ErrorMessage error={printers.error} testId="printers-error" />;
  }

  const decide = async (printer: string, seq: number, action: 'release' | 'discard', title: string) => {
    setBusy(`${printer}/${seq}`);
    setError(null);
    try {
      await api.decideHeld(printer, seq, action);
      setDone(t(action === 'release' ? 'printers.released' : 'printers.discarded', { title }));
      await reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy('');
    }
  };

  return (
    <div className="printers" aria-labelledby={headingId} data-testid="printers">
      <h3 id={headingId}>{t('printers.heading')}</h3>
      <ErrorMessage error={printers.error ?? error} testId="printers-error" />
      <p className="muted small" role="status" data-testid="printers-result">
        {done}
      </p>
      <ul className="list-reset stack" data-testid="printer-list">
        {data.printers.map((p) => (
          <li key={p.id} className="subcard device" data-testid={`printer-${p.id}`} data-state={p.state}>
            <div className="card__head">
              <h4>{p.name}</h4>
              <Badge tone={p.state === 'online' ? 'ok' : p.state === 'offline' ? 'bad' : 'muted'}>
                {tv('printers.state.', p.state)}
              </Badge>
            </div>
            {p.reason && (
              <p className="notice small" data-testid={`printer-reason-${p.id}`}>
                {tv('printers.reason.', p.reason.split(':')[0] ?? 'error')}
              </p>
            )}
            <dl className="kv">
              <dt>{t('printers.address')}</dt>
              <dd>
                <code>{p.address}</code>
              </dd>
              <dt>{t('printers.waiting')}</dt>
              <dd>
                {p.waiting}
                {p.waiting > 0 && p.state === 'offline' && !p.backup
                  ? ` (${t('printers.waitingNoBackup')})`
                  : ''}
              </dd>
              <dt>{t('printers.backup')}</dt>
              <dd>{p.backup ?? '—'}</dd>
              <dt>{t('printers.confirm')}</dt>
              <dd>{p.unconfirmed ? t('printers.unconfirmed') : t('printers.confirmed')}</dd>
              <dt>{t('printers.since')}</dt>
              <dd>{date(p.stateSince)}</dd>
            </dl>
          </li>
        ))}
      </ul>
      {data.held.length > 0 && (
        <>
          <h3>{t('printers.heldHeading', { n: data.held.length })}</h3>
          <p className="muted small">{t('printers.heldIntro', { min: data.holdAfterMin })}</p>
          <ul className="list-reset stack" data-testid="held-list">
            {data.held.map((h) => {
              const title = h.title ?? h.outboxId;
              return (
                <li
                  key={`${h.printer}/${h.seq}`}
                  className="subcard held"
                  data-testid={`held-${h.printer}-${h.seq}`}
                >
                  <p>
                    <strong>{title}</strong>
                    <br />
                    <span className="muted small">
                      {h.printer} · {date(h.createdAt)}
                    </span>
                  </p>
                  <div className="actions">
                    <button
                      type="button"
                      className="btn btn--small"
                      disabled={busy !== ''}
                      onClick={() => void decide(h.printer, h.seq, 'release', title)}
                      data-testid={`held-release-${h.printer}-${h.seq}`}
                    >
                      {t('printers.release')}
                    </button>
                    <button
                      type="button"
                      className="btn btn--small btn--danger"
                      disabled={busy !== ''}
                      onClick={() => void decide(h.printer, h.seq, 'discard', title)}
                      data-testid={`held-discard-${h.printer}-${h.seq}`}
                    >
                      {t('printers.discard')}
                    </button>
                  </div>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </div>
  );
}
