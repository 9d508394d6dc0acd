import { useId } from 'react';
import { catalogText } from '../i18n/catalog.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import type { Contract } from '../types.ts';
import { EnvList } from './EnvList.tsx';
import { Badge } from './StatusBadge.tsx';

const TONE = { env_required: 'wait', configured: 'ok', lan_ready: 'info' } as const;

export function ContractList(props: { contracts: Contract[] }) {
  const { t } = useI18n();
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} className="block">
      <h2 id={headingId}>{t('contracts.heading')}</h2>
      <div className="grid">
        {props.contracts.map((c) => (
          <ContractCard key={c.id} contract={c} />
        ))}
      </div>
    </section>
  );
}

function ContractCard(props: { contract: Contract }) {
  const { lang, tv } = useI18n();
  const c = props.contract;
  const text = catalogText('contract', lang, c.id, c);
  return (
    <article className="card" data-testid={`contract-${c.id}`} data-status={c.status}>
      <div className="card__head">
        <h3 data-testid="contract-name">{text.name}</h3>
        <Badge tone={TONE[c.status] ?? 'muted'} testId="contract-status">
          {tv('contractStatus.', c.status)}
        </Badge>
      </div>
      <p className="provider" data-testid="contract-provider">
        {text.provider}
      </p>
      <p className="note" data-testid="contract-note">
        {text.note}
      </p>
      <EnvList env={c.env} />
    </article>
  );
}
