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
  const { t, tv, lang } = useI18n();
  const { tenant, subject, role } = props.me;
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
        <div className="account" data-testid="account" data-subject={subject} data-role={role}>
          <span className="account__avatar" aria-hidden="true">
            {initials(subject)}
          </span>
          <span className="account__text">
            <span className="sr-only">{t('account.label')}: </span>
            <strong data-testid="account-subject">{subject}</strong>
            <span data-testid="account-role">{tv('account.role.', role)}</span>
          </span>
        </div>
        <button type="button" className="btn btn--small" onClick={props.onLogout} data-testid="logout">
          {t('header.logout')}
        </button>
      </div>
    </header>
  );
}
