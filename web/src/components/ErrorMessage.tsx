import { ApiError, NETWORK_ERROR } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import { translateErrorCode } from '../i18n/reasons.ts';
import { Translated } from './ServerText.tsx';

/**
 * Shows an API error: in English as the server worded it (its `message`); in az/ru translated by
 * its stable code (`error`), with the server's message kept after it. Network errors are ours.
 */
export function ErrorMessage(props: { error: unknown; testId?: string }) {
  const { t, lang } = useI18n();
  const err = props.error;
  if (!err) return null;
  let content;
  if (err instanceof ApiError && err.code !== NETWORK_ERROR) {
    content = <Translated translated={translateErrorCode(lang, err.code)} server={err.message} />;
  } else if (err instanceof ApiError) content = t('errors.network');
  else if (err instanceof Error) content = t('errors.unknown', { code: err.name });
  else content = t('errors.unknown', { code: String(err) });
  return (
    <div
      className="error"
      role="alert"
      data-testid={props.testId ?? 'error'}
      data-code={err instanceof ApiError ? err.code : undefined}
    >
      {content}
    </div>
  );
}
