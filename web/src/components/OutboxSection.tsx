import { useId } from 'react';
import { useI18n } from '../i18n/I18nContext.tsx';
import { CHANNELS, STATUSES } from '../types.ts';
import type { OutboxList } from '../useOutbox.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { OutboxItemCard } from './OutboxItemCard.tsx';

export function OutboxSection(props: { outbox: OutboxList; onOpen(id: string): void }) {
  const { t } = useI18n();
  const headingId = useId();
  const statusId = useId();
  const channelId = useId();
  const { items, filters, nextCursor, loading, error } = props.outbox;
  return (
    <section aria-labelledby={headingId} className="block" data-testid="outbox">
      <div className="block__head">
        <h2 id={headingId}>{t('outbox.heading')}</h2>
        <form className="filters" aria-label={t('outbox.filters')} onSubmit={(e) => e.preventDefault()}>
          <div className="field">
            <label htmlFor={statusId}>{t('outbox.filterStatus')}</label>
            <select
              id={statusId}
              value={filters.status}
              onChange={(e) => props.outbox.setFilters({ ...filters, status: e.target.value })}
              data-testid="outbox-filter-status"
            >
              <option value="">{t('outbox.filterAll')}</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(`status.${s}`)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={channelId}>{t('outbox.filterChannel')}</label>
            <select
              id={channelId}
              value={filters.channel}
              onChange={(e) => props.outbox.setFilters({ ...filters, channel: e.target.value })}
              data-testid="outbox-filter-channel"
            >
              <option value="">{t('outbox.filterAll')}</option>
              {CHANNELS.map((c) => (
                <option key={c} value={c}>
                  {t(`channel.${c}`)}
                </option>
              ))}
            </select>
          </div>
          <button
            type="button"
            className="btn"
            onClick={() => void props.outbox.refresh()}
            data-testid="outbox-refresh"
          >
            {t('outbox.refresh')}
          </button>
        </form>
      </div>
      <ErrorMessage error={error} testId="outbox-error" />
      {items.length === 0 && !loading && !error && <p className="muted">{t('outbox.empty')}</p>}
      <ul className="grid list-reset" aria-busy={loading} data-testid="outbox-list">
        {items.map((item) => (
          <li key={item.id}>
            <OutboxItemCard item={item} onOpen={props.onOpen} />
          </li>
        ))}
      </ul>
      {nextCursor && (
        <button
          type="button"
          className="btn"
          disabled={loading}
          onClick={() => void props.outbox.loadMore()}
          data-testid="outbox-load-more"
        >
          {t('outbox.loadMore')}
        </button>
      )}
    </section>
  );
}
