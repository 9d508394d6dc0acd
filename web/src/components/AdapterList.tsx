import { useId } from 'react';
import { catalogText } from '../i18n/catalog.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import type { Adapter } from '../types.ts';
import { EnvList } from './EnvList.tsx';
import { Badge } from './StatusBadge.tsx';

const TONE = { dry_run: 'info', live: 'ok', lan: 'progress' } as const;

export function AdapterList(props: { adapters: Adapter[] }) {
  const { t } = useI18n();
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} className="block">
      <h2 id={headingId}>{t('adapters.heading')}</h2>
      <div className="grid">
        {props.adapters.map((a) => (
          <AdapterCard key={a.id} adapter={a} />
        ))}
      </div>
    </section>
  );
}

function AdapterCard(props: { adapter: Adapter }) {
  const { t, lang, tv } = useI18n();
  const a = props.adapter;
  const text = catalogText('adapter', lang, a.id, a);
  const none = (v: string) => (v === 'none' || v === '' ? t('adapter.none') : v);
  return (
    <article className="card" data-testid={`adapter-${a.id}`} data-mode={a.mode}>
      <div className="card__head">
        <h3 data-testid="adapter-name">{text.name}</h3>
        <Badge tone={TONE[a.mode] ?? 'muted'} testId="adapter-mode">
          {tv('mode.', a.mode)}
        </Badge>
      </div>
      <p className="provider" data-testid="adapter-provider">
        {text.provider}
      </p>
      <dl className="kv">
        <dt>{t('adapter.channel')}</dt>
        <dd>{tv('channel.', a.channel)}</dd>
        <dt>{t('adapter.endpoint')}</dt>
        <dd>
          <code data-testid="adapter-endpoint">{none(a.endpoint)}</code>
        </dd>
        <dt>{t('adapter.webhook')}</dt>
        <dd>
          <code data-testid="adapter-webhook">{none(a.webhook)}</code>
        </dd>
        <dt>{t('adapter.lanSafe')}</dt>
        <dd>{a.lanSafe ? t('bool.true') : t('bool.false')}</dd>
      </dl>
      <p className="note" data-testid="adapter-note">
        {text.note}
      </p>
      <EnvList env={a.env} />
    </article>
  );
}
