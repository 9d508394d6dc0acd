import { useId } from 'react';
import { useI18n } from '../i18n/I18nContext.tsx';
import type { Attempt } from '../types.ts';
import { JsonBlock } from './JsonBlock.tsx';

export function AttemptList(props: { attempts: Attempt[] }) {
  const { t, tOr, tv, date } = useI18n();
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} data-testid="attempts">
      <h3 id={headingId}>{t('attempts.heading')}</h3>
      {props.attempts.length === 0 && <p className="muted">{t('attempts.empty')}</p>}
      <ol className="list-reset stack">
        {props.attempts.map((a) => (
          <li
            key={a.attempt}
            className="subcard"
            data-testid={`attempt-${a.attempt}`}
            data-outcome={a.outcome}
          >
            <h4>{t('attempt.number', { n: a.attempt })}</h4>
            <dl className="kv">
              <dt>{t('attempt.outcome')}</dt>
              <dd>{tOr(`outcome.${a.outcome}`, tv('status.', a.outcome))}</dd>
              <dt>{t('item.adapter')}</dt>
              <dd>
                {a.adapter} · {tv('mode.', a.mode)}
              </dd>
              <dt>{t('attempt.started')}</dt>
              <dd>
                <time dateTime={a.startedAt ?? undefined}>{date(a.startedAt)}</time>
              </dd>
              {a.durationMs !== null && (
                <>
                  <dt>{t('attempt.duration')}</dt>
                  <dd>{t('attempt.durationValue', { ms: a.durationMs })}</dd>
                </>
              )}
              {(a.errorCode || a.errorMessage) && (
                <>
                  <dt>{t('attempt.error')}</dt>
                  <dd>
                    {a.errorCode && <code>{a.errorCode}</code>} {a.errorMessage}
                  </dd>
                </>
              )}
              {a.providerMessageId && (
                <>
                  <dt>{t('item.providerMessageId')}</dt>
                  <dd>
                    <code>{a.providerMessageId}</code>
                  </dd>
                </>
              )}
            </dl>
            {a.request != null && (
              <JsonBlock
                value={a.request}
                label={t('attempt.request')}
                testId={`attempt-request-${a.attempt}`}
              />
            )}
            {a.response != null && (
              <JsonBlock
                value={a.response}
                label={t('attempt.response')}
                testId={`attempt-response-${a.attempt}`}
              />
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
