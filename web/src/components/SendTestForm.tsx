import { useId, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import { useLoad } from '../useLoad.ts';
import { CHANNELS, type Channel, type StatusAnswer, type TemplateInfo } from '../types.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { StatusBadge } from './StatusBadge.tsx';

const PLACEHOLDER: Record<Channel, string> = {
  otp_sms: '+994501234567',
  whatsapp: '+994501234567',
  telegram: '@username',
  email: 'owner@example.az',
  in_app: 'pos-desktop-01',
};

const OWN_TEXT = '';

/** Template data as typed: a field whose example is a number is sent as a number when it reads as one. */
function dataOf(template: TemplateInfo, values: Record<string, string>): Record<string, unknown> {
  const fields = [...template.required, ...template.optional];
  return Object.fromEntries(
    fields
      .filter((f) => (values[f] ?? '').trim() !== '')
      .map((f) => {
        const v = (values[f] ?? '').trim();
        const asNumber = Number(v);
        return [f, typeof template.example.data[f] === 'number' && Number.isFinite(asNumber) ? asNumber : v];
      }),
  );
}

function exampleValues(template: TemplateInfo): Record<string, string> {
  return Object.fromEntries(Object.entries(template.example.data).map(([k, v]) => [k, String(v)]));
}

/**
 * A test message on any channel, queued through POST /api/v1/outbox like every other message:
 * own text, or one of the server's templates (GET /api/v1/templates) with its data fields.
 */
export function SendTestForm(props: { onQueued(answer: StatusAnswer): void; onOpen(id: string): void }) {
  const { t, lang } = useI18n();
  const catalogue = useLoad(() => api.templates(), []);
  const ids = {
    heading: useId(),
    channel: useId(),
    target: useId(),
    hint: useId(),
    subject: useId(),
    title: useId(),
    body: useId(),
    content: useId(),
    data: useId(),
  };
  const [channel, setChannel] = useState<Channel>('in_app');
  const [target, setTarget] = useState('');
  const [subject, setSubject] = useState('');
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<StatusAnswer | null>(null);
  const [templateId, setTemplateId] = useState(OWN_TEXT);
  const [values, setValues] = useState<Record<string, string>>({});
  // Templates written for this channel (none for OTP: its text is the provider's).
  const templates = (catalogue.data?.templates ?? []).filter((x) => x.channels.includes(channel));
  const template = templates.find((x) => x.id === templateId) ?? null;

  const chooseTemplate = (id: string) => {
    setTemplateId(id);
    const chosen = templates.find((x) => x.id === id);
    setValues(chosen ? exampleValues(chosen) : {});
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      // A template brings its own title, subject and text.
      const answer = await api.enqueue(
        template
          ? { channel, target: target.trim(), template: template.id, data: dataOf(template, values) }
          : {
              channel,
              target: target.trim(),
              body,
              ...(channel === 'email' && subject.trim() ? { subject: subject.trim() } : {}),
              ...(title.trim() ? { title: title.trim() } : {}),
            },
      );
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
          onChange={(e) => {
            setChannel(e.target.value as Channel);
            chooseTemplate(OWN_TEXT);
          }}
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
        {channel === 'email' && !template && (
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
        {templates.length > 0 && (
          <>
            <label htmlFor={ids.content}>{t('send.content')}</label>
            <select
              id={ids.content}
              value={templateId}
              onChange={(e) => chooseTemplate(e.target.value)}
              data-testid="send-template"
            >
              <option value={OWN_TEXT}>{t('send.ownText')}</option>
              {templates.map((x) => (
                <option key={x.id} value={x.id}>
                  {t('send.templateOption', { title: x.example.rendered[lang].title, id: x.id })}
                </option>
              ))}
            </select>
          </>
        )}
        {template && (
          <fieldset className="fieldset" data-testid="send-template-data">
            <legend>{t('send.templateData')}</legend>
            {[...template.required, ...template.optional].map((f) => (
              <div key={f} className="form">
                <label htmlFor={`${ids.data}-${f}`}>
                  <code>{f}</code>
                </label>
                <input
                  id={`${ids.data}-${f}`}
                  required={template.required.includes(f)}
                  value={values[f] ?? ''}
                  onChange={(e) => setValues((v) => ({ ...v, [f]: e.target.value }))}
                  autoComplete="off"
                  spellCheck={false}
                  data-testid={`send-data-${f}`}
                />
              </div>
            ))}
            <p className="hint">{t('send.example', { text: template.example.rendered[lang].body })}</p>
          </fieldset>
        )}
        {!template && (
          <>
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
          </>
        )}
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
