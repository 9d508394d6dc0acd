import { useId } from 'react';
import { useI18n } from '../i18n/I18nContext.tsx';
import { SUMMARY_KEYS, type Readiness } from '../types.ts';
import { Badge } from './StatusBadge.tsx';

export function ReadinessSummary(props: { readiness: Readiness }) {
  const { t, tv } = useI18n();
  const headingId = useId();
  const { summary, store, runtime } = props.readiness;
  return (
    <section className="card" aria-labelledby={headingId} data-testid="readiness">
      <h2 id={headingId}>{t('readiness.heading')}</h2>
      <dl className="counts" data-testid="readiness-counts">
        {SUMMARY_KEYS.map((k) => (
          <div key={k} className="count" data-testid={`count-${k}`} data-value={summary[k]}>
            <dt>{t(`count.${k}`)}</dt>
            <dd>{summary[k]}</dd>
          </div>
        ))}
      </dl>
      <dl className="kv kv--inline">
        <div>
          <dt>{t('readiness.runtime')}</dt>
          <dd data-testid="runtime" data-value={runtime}>
            {tv('runtime.', runtime)}
          </dd>
        </div>
        <div>
          <dt>{t('store.label')}</dt>
          <dd data-testid="store" data-kind={store.kind} data-durable={String(store.durable)}>
            <Badge tone={store.durable ? 'ok' : 'warn'}>
              {store.durable ? t('store.durable') : t('store.notDurable')}
            </Badge>{' '}
            {store.kind === 'postgres' ? t('store.postgres') : t('store.pglite')}
          </dd>
        </div>
      </dl>
    </section>
  );
}
