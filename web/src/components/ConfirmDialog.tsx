import { useId } from 'react';
import { useI18n } from '../i18n/I18nContext.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';
import { Modal } from './Modal.tsx';

/** Asks before a change that matters; the safe choice ("Go back") has the focus. */
export function ConfirmDialog(props: {
  title: string;
  body: string;
  busy?: boolean;
  error?: unknown;
  onConfirm(): void;
  onCancel(): void;
}) {
  const { t } = useI18n();
  const titleId = useId();
  return (
    <Modal labelledBy={titleId} onClose={props.onCancel} testId="confirm-dialog">
      <h2 id={titleId}>{props.title}</h2>
      <p>{props.body}</p>
      <ErrorMessage error={props.error} />
      <div className="actions">
        <button
          type="button"
          className="btn"
          onClick={props.onCancel}
          data-autofocus
          data-testid="confirm-cancel"
        >
          {t('confirm.cancel')}
        </button>
        <button
          type="button"
          className="btn btn--primary"
          onClick={props.onConfirm}
          disabled={props.busy}
          data-testid="confirm-ok"
        >
          {t('confirm.ok')}
        </button>
      </div>
    </Modal>
  );
}
