import { useI18n } from '../i18n/I18nContext.tsx';

export function Brand() {
  const { t } = useI18n();
  return (
    <div className="brand">
      <span className="brand__mark" aria-hidden="true">
        M
      </span>
      <span>
        <strong className="brand__name">{t('app.brand')}</strong>
        <span className="brand__sub">{t('app.brandSub')}</span>
      </span>
    </div>
  );
}
