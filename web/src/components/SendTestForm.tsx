import { useId, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import { CHANNELS, type Channel, type StatusAnswer } from '../types.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { StatusBadge } from './StatusBadge.tsx';

const PLACEHOLDER: Record<Channel, string> = {
  otp_sms: '+994501234567',
  whatsapp: '+994501234567',
  telegram: '@username',
  email: 'owner@example.az',
  in_app: 'pos-desktop-01',
};

/** A test message on any channel, queued through POST /api/v1/outbox like every other message. */
export function SendTestForm(props: { onQueued(answer: StatusAnswer): void; onOpen(id: string): void }) {
  const { t } = useI18n();
  const ids = {
    heading: useId(),
    channel: useId(),
    target: useId(),
    hint: useId(),
    subject: useId(),
    title: useId(),
    body: useId(),
  };
  const [channel, setChannel] = useState<Channel>('in_app');
  const [target, setTarget] = useState('');
  const [subject, setSubject] = useState('');
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<StatusAnswer | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const answer = await api.enqueue({
        channel,
        target: target.trim(),
        body,
        ...(channel === 'email' && subject.trim() ? { subject: subject.trim() } : {}),
        ...(title.trim() ? { title: title.trim() } : {}),
      });
      setResult(answer);
      props.onQueued(answer);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby={ids.heading}>
      <h2 id={ids.heading}>{t('send.heading')}</h2>
      <p className="muted small">{t('send.intro')}</p>
      <form className="form" onSubmit={(e) => void submit(e)} data-testid="send-test-form">
        <label htmlFor={ids.channel}>{t('send.channel')}</label>
        <select
          id={ids.channel}
          value={channel}
          onChange={(e) => setChannel(e.target.value as Channel)}
          data-testid="send-channel"
        >
          {CHANNELS.map((c) => (
            <option key={c} value={c}>
              {t(`channel.${c}`)}
            </option>
          ))}
        </select>
        <label htmlFor={ids.target}>{t('send.target')}</label>
        <input
          id={ids.target}
          required
          value={target}
          onChange={(e) => setTarget(e.target.value)}
          placeholder={PLACEHOLDER[channel]}
          aria-describedby={ids.hint}
          autoComplete="off"
          spellCheck={false}
          data-testid="send-target"
        />
        <p id={ids.hint} className="hint">
          {t(`send.hint.${channel}`)}
        </p>
        {channel === 'email' && (
          <>
            <label htmlFor={ids.subject}>{t('send.subject')}</label>
            <input
              id={ids.subject}
              required
              value={subject}
              onChange={(e) => setSubject(e.target.value)}
              data-testid="send-subject"
            />
          </>
        )}
        <label htmlFor={ids.title}>{t('send.title')}</label>
        <input
          id={ids.title}
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          data-testid="send-title"
        />
        <label htmlFor={ids.body}>{t('send.body')}</label>
        <textarea
          id={ids.body}
          required
          rows={3}
          value={body}
          onChange={(e) => setBody(e.target.value)}
          data-testid="send-body"
        />
        <button type="submit" className="btn btn--primary" disabled={busy} data-testid="send-submit">
          {t('send.submit')}
        </button>
      </form>
      <ErrorMessage error={error} testId="send-error" />
      {result && (
        <div
          className="result"
          role="status"
          data-testid="send-result"
          data-id={result.id}
          data-status={result.status}
        >
          <p>
            {t('send.result')} <StatusBadge status={result.status} />
          </p>
          {result.reason && <p className="note">{result.reason}</p>}
          <button
            type="button"
            className="btn btn--small"
            onClick={() => props.onOpen(result.id)}
            data-testid="send-open"
          >
            {t('send.open')}
          </button>
        </div>
      )}
    </section>
  );
}
