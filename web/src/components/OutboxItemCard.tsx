import { useI18n } from '../i18n/I18nContext.tsx';
import type { OutboxItem } from '../types.ts';
import { ReasonText } from './ServerText.tsx';
import { StatusBadge } from './StatusBadge.tsx';

/** One outbox row as the list shows it: the target is already masked by the server. */
export function OutboxItemCard(props: { item: OutboxItem; onOpen(id: string): void }) {
  const { t, tv, date } = useI18n();
  const i = props.item;
  const title = i.title ?? i.subject ?? t('outbox.untitled');
  return (
    <article
      className="card outbox-item"
      data-testid={`outbox-item-${i.id}`}
      data-status={i.status}
      data-channel={i.channel}
    >
      <div className="card__head">
        <h3>{title}</h3>
        <StatusBadge status={i.status} />
      </div>
      <dl className="kv">
        <dt>{t('outbox.channel')}</dt>
        <dd data-testid="item-channel">{tv('channel.', i.channel)}</dd>
        <dt>{t('outbox.target')}</dt>
        <dd>
          <code data-testid="item-target">{i.target}</code>
        </dd>
        <dt>{t('outbox.source')}</dt>
        <dd data-testid="item-source" data-source={i.source} title={i.source}>
          {tv('source.', i.source)}
        </dd>
        <dt>{t('outbox.offlineSafe')}</dt>
        <dd data-testid="item-offline-safe" data-value={String(i.offlineSafe)}>
          {i.offlineSafe ? t('bool.true') : t('bool.false')}
        </dd>
        <dt>{t('outbox.created')}</dt>
        <dd>
          <time dateTime={i.createdAt ?? undefined}>{date(i.createdAt)}</time>
        </dd>
      </dl>
      {i.reason && (
        <div className="note" data-testid="item-reason">
          <span className="sr-only">{t('outbox.reason')}: </span>
          <ReasonText text={i.reason} />
        </div>
      )}
      <button
        type="button"
        className="btn btn--small"
        onClick={() => props.onOpen(i.id)}
        data-testid={`outbox-open-${i.id}`}
        aria-label={`${t('outbox.open')}: ${title}`}
      >
        {t('outbox.open')}
      </button>
    </article>
  );
}
