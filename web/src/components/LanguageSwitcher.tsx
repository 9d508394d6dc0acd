import { useI18n } from '../i18n/I18nContext.tsx';
import { LANGS, LANG_NAMES } from '../i18n/index.ts';

export function LanguageSwitcher() {
  const { lang, setLang, t } = useI18n();
  return (
    <div role="group" aria-label={t('lang.label')} className="segmented" data-testid="language-switcher">
      {LANGS.map((l) => (
        <button
          key={l}
          type="button"
          lang={l}
          aria-pressed={l === lang}
          onClick={() => setLang(l)}
          data-testid={`lang-${l}`}
          title={LANG_NAMES[l]}
        >
          <span aria-hidden="true">{l.toUpperCase()}</span>
          <span className="sr-only">{LANG_NAMES[l]}</span>
        </button>
      ))}
    </div>
  );
}
