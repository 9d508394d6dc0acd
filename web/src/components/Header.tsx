import { useI18n } from '../i18n/I18nContext.tsx';
import { countryName } from '../i18n/index.ts';
import type { Me } from '../types.ts';
import type { LiveState } from '../live.ts';
import { Brand } from './Brand.tsx';
import { LanguageSwitcher } from './LanguageSwitcher.tsx';
import { LiveStatus } from './LiveStatus.tsx';

function initials(name: string): string {
  const letters = name.replace(/[^\p{L}\p{N}]/gu, '');
  return (letters.slice(0, 2) || 'MU').toUpperCase();
}

export function Header(props: { me: Me; live: LiveState; onLogout(): void }) {
  const { t, lang } = useI18n();
  const { tenant } = props.me;
  return (
    <header className="topbar" data-testid="header">
      <Brand />
      <p className="tenant" data-testid="tenant">
        <span className="tenant__name">{tenant.name}</span>
        <span className="chip">
          <span className="sr-only">{t('header.country')}: </span>
          <strong data-testid="tenant-country">{tenant.country}</strong> {countryName(tenant.country, lang)}
          <span aria-hidden="true"> / </span>
          <span className="sr-only">, {t('header.currency')}: </span>
          <strong data-testid="tenant-currency">{tenant.currency}</strong>
        </span>
      </p>
      <div className="topbar__end">
        <LiveStatus state={props.live} />
        <LanguageSwitcher />
        <div className="account" data-testid="account">
          <span className="account__avatar" aria-hidden="true">
            {initials(tenant.name)}
          </span>
          <span className="account__text">
            <strong>{t('header.operator')}</strong>
            <span title={t('header.account', { subject: props.me.subject })}>{t('header.ownerAccount')}</span>
          </span>
        </div>
        <button type="button" className="btn btn--small" onClick={props.onLogout} data-testid="logout">
          {t('header.logout')}
        </button>
      </div>
    </header>
  );
}
