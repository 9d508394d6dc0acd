import { ApiError, NETWORK_ERROR } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';

/** Shows an API error as the server worded it (its `message`), or a translated network error. */
export function ErrorMessage(props: { error: unknown; testId?: string }) {
  const { t } = useI18n();
  const err = props.error;
  if (!err) return null;
  let text: string;
  if (err instanceof ApiError) text = err.code === NETWORK_ERROR ? t('errors.network') : err.message;
  else if (err instanceof Error) text = t('errors.unknown', { code: err.name });
  else text = t('errors.unknown', { code: String(err) });
  return (
    <p className="error" role="alert" data-testid={props.testId ?? 'error'}>
      {text}
    </p>
  );
}
