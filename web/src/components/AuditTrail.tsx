import { useId } from 'react';
import { useI18n } from '../i18n/I18nContext.tsx';
import type { AuditEvent } from '../types.ts';
import { JsonBlock } from './JsonBlock.tsx';
import { ReasonText } from './ServerText.tsx';

/** The append-only audit events of one item, oldest first as the server lists them. */
export function AuditTrail(props: { events: AuditEvent[] }) {
  const { t, tOr, tv, date } = useI18n();
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} data-testid="audit-trail">
      <h3 id={headingId}>{t('audit.heading')}</h3>
      {props.events.length === 0 && <p className="muted">{t('audit.empty')}</p>}
      <ol className="timeline">
        {props.events.map((e) => (
          <li key={e.id} data-testid="audit-event" data-action={e.action} data-to={e.to ?? ''}>
            <p className="timeline__head">
              <time dateTime={e.at ?? undefined}>{date(e.at)}</time> · {tOr(`action.${e.action}`, e.action)}
            </p>
            {e.to && (
              <p>
                {e.from ? tv('status.', e.from) : t('audit.created')}
                {' → '}
                <strong>{tv('status.', e.to)}</strong>
              </p>
            )}
            <p className="muted small">
              {t('audit.actor')}: <code>{e.actor}</code>
            </p>
            {e.reason && (
              <div className="small" data-testid="audit-reason">
                {t('audit.reason')}: <ReasonText text={e.reason} />
              </div>
            )}
            {e.detail != null && <JsonBlock value={e.detail} label={t('audit.detail')} />}
          </li>
        ))}
      </ol>
    </section>
  );
}
