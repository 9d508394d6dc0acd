import type { ReactNode } from 'react';
import { useI18n } from '../i18n/I18nContext.tsx';
import type { MessageKey } from '../i18n/index.ts';
import type { OutboxDetail } from '../types.ts';
import { ReasonText } from './ServerText.tsx';

/** Every field of the opened item; the target here is the full one the item endpoint returns. */
export function ItemFacts(props: { item: OutboxDetail; currency: string }) {
  const { t, tv, date, money } = useI18n();
  const i = props.item;
  const none = t('value.none');
  const revenue = i.data?.revenue;
  const rows: [MessageKey, ReactNode, string][] = [
    ['item.id', <code>{i.id}</code>, 'fact-id'],
    ['outbox.channel', tv('channel.', i.channel), 'fact-channel'],
    ['outbox.target', <code>{i.target}</code>, 'fact-target'],
    ['item.title', i.title ?? none, 'fact-title'],
    ['item.subject', i.subject ?? none, 'fact-subject'],
    ['item.body', i.body ? <span className="prewrap">{i.body}</span> : none, 'fact-body'],
    ['item.template', i.template ?? none, 'fact-template'],
    // An amount in the template data (the daily report's revenue), in the tenant currency.
    ...(typeof revenue === 'number' && Number.isFinite(revenue)
      ? [['item.revenue', money(revenue, props.currency), 'fact-revenue'] as [MessageKey, ReactNode, string]]
      : []),
    // The source's name in the page's language; the id it was sent with stays in the title.
    ['outbox.source', <span title={i.source}>{tv('source.', i.source)}</span>, 'fact-source'],
    ['outbox.reason', i.reason ? <ReasonText text={i.reason} /> : none, 'fact-reason'],
    ['item.adapter', i.adapter, 'fact-adapter'],
    ['item.mode', i.mode ? tv('mode.', i.mode) : none, 'fact-mode'],
    ['outbox.offlineSafe', i.offlineSafe ? t('bool.true') : t('bool.false'), 'fact-offline-safe'],
    ['item.attempts', t('item.attemptsValue', { n: i.attemptCount, max: i.maxAttempts }), 'fact-attempts'],
    ['item.sendAt', date(i.sendAt), 'fact-send-at'],
    ['item.nextAttemptAt', date(i.nextAttemptAt), 'fact-next-attempt'],
    ['item.providerMessageId', i.providerMessageId ?? none, 'fact-provider-message-id'],
    ['item.lastErrorCode', i.lastErrorCode ?? none, 'fact-last-error'],
    ['item.createdAt', date(i.createdAt), 'fact-created'],
    ['item.updatedAt', date(i.updatedAt), 'fact-updated'],
  ];
  return (
    <dl className="kv" data-testid="item-facts">
      {rows.map(([label, value, testId]) => (
        <div key={testId} className="kv__row">
          <dt>{t(label)}</dt>
          <dd data-testid={testId}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
