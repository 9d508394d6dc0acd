import { useId, useState } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import type { TelegramLink as Link } from '../types.ts';
import { CopyButton } from './CopyButton.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';

/** Creates a one-time link that ties the owner's Telegram chat to this account (/start <token>). */
export function TelegramLink() {
  const { t, date } = useI18n();
  const headingId = useId();
  const [link, setLink] = useState<Link | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      setLink(await api.telegramLink());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{t('telegram.heading')}</h2>
      <p className="muted small">{t('telegram.intro')}</p>
      <button
        type="button"
        className="btn btn--primary"
        disabled={busy}
        onClick={() => void create()}
        data-testid="telegram-link-create"
      >
        {t('telegram.create')}
      </button>
      <ErrorMessage error={error} testId="telegram-error" />
      {link && (
        <div className="result" role="status" data-testid="telegram-link">
          {link.url ? (
            <p className="copyrow">
              <span className="sr-only">{t('telegram.url')}: </span>
              <a href={link.url} target="_blank" rel="noopener noreferrer" data-testid="telegram-link-url">
                {link.url}
              </a>
              <CopyButton text={link.url} testId="telegram-link-copy" />
            </p>
          ) : (
            <p>{t('telegram.noUrl', { token: link.token })}</p>
          )}
          <p className="copyrow">
            {t('telegram.token')}: <code data-testid="telegram-link-token">{link.token}</code>
            {!link.url && <CopyButton text={link.token} testId="telegram-link-copy" />}
          </p>
          <p className="muted small" data-testid="telegram-link-expires">
            {t('telegram.expires', { date: date(link.expiresAt) })}
          </p>
        </div>
      )}
    </section>
  );
}
