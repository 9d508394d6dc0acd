import { useI18n } from '../i18n/I18nContext.tsx';
import { translateReason } from '../i18n/reasons.ts';

/**
 * A reason sentence from the API, shown once: English pages show it as the server wrote it;
 * az/ru pages show the translation, with the server's wording (what support and the logs will
 * quote) one click away in a details element instead of printed beside it.
 */
export function ReasonText(props: { text: string }) {
  const { lang } = useI18n();
  const translated = lang === 'en' ? null : translateReason(lang, props.text);
  return <Translated translated={translated} server={props.text} />;
}

/** `translated`, with the server's English wording on demand; the wording alone when untranslated. */
export function Translated(props: { translated: string | null; server: string }) {
  const { lang, t } = useI18n();
  if (lang === 'en') return <>{props.server}</>;
  if (props.translated === null) return <span lang="en">{props.server}</span>;
  return (
    <>
      <span data-testid="translated">{props.translated}</span>
      <details className="server-text" data-testid="server-wording">
        <summary>{t('server.wording')}</summary>
        <span lang="en" data-testid="server-text">
          {props.server}
        </span>
      </details>
    </>
  );
}
