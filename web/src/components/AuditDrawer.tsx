import { useEffect, useId, useRef, useState } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import { CANCELLABLE, RETRYABLE, type StatusAnswer } from '../types.ts';
import { useLoad } from '../useLoad.ts';
import { AttemptList } from './AttemptList.tsx';
import { AuditTrail } from './AuditTrail.tsx';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';
import { ItemFacts } from './ItemFacts.tsx';
import { Loading } from './Loading.tsx';
import { Modal } from './Modal.tsx';
import { StatusBadge } from './StatusBadge.tsx';

/**
 * One outbox item opened: full target, attempts with their rendered requests, the audit trail,
 * and retry / cancel. `refreshKey` changes when a live event touched this item.
 */
export function AuditDrawer(props: {
  id: string;
  /** The tenant currency, for amounts in the item's template data. */
  currency: string;
  refreshKey: number;
  onClose(): void;
  onChanged(answer: StatusAnswer): void;
}) {
  const { t } = useI18n();
  const titleId = useId();
  const loaded = useLoad(
    () => Promise.all([api.outboxItem(props.id), api.outboxAudit(props.id)]),
    [props.id],
  );
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const { reload } = loaded;
  const mountKey = useRef(props.refreshKey);

  useEffect(() => {
    if (props.refreshKey !== mountKey.current) void reload();
  }, [props.refreshKey, reload]);

  const act = async (action: 'retry' | 'cancel') => {
    setBusy(true);
    setActionError(null);
    try {
      const answer = action === 'retry' ? await api.retry(props.id) : await api.cancel(props.id);
      setConfirmCancel(false);
      props.onChanged(answer);
      await reload();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  const [item, audit] = loaded.data ?? [null, null];
  return (
    <Modal labelledBy={titleId} onClose={props.onClose} className="drawer" testId="audit-drawer">
      <div className="drawer__head">
        <h2 id={titleId}>
          {t('drawer.title')}
          {item && <span className="drawer__sub">{item.title ?? item.subject ?? t('outbox.untitled')}</span>}
        </h2>
        <button
          type="button"
          className="btn btn--small"
          onClick={props.onClose}
          data-autofocus
          data-testid="drawer-close"
        >
          {t('drawer.close')}
        </button>
      </div>
      {loaded.loading && !item && <Loading />}
      <ErrorMessage error={loaded.error} testId="drawer-error" />
      {item && (
        <div className="drawer__body" data-testid="drawer-item" data-id={item.id} data-status={item.status}>
          <div className="drawer__status">
            <StatusBadge status={item.status} />
            <div className="actions">
              <button
                type="button"
                className="btn"
                disabled={busy || !RETRYABLE.includes(item.status)}
                onClick={() => void act('retry')}
                data-testid="item-retry"
              >
                {t('item.retry')}
              </button>
              <button
                type="button"
                className="btn btn--danger"
                disabled={busy || !CANCELLABLE.includes(item.status)}
                onClick={() => {
                  setActionError(null);
                  setConfirmCancel(true);
                }}
                data-testid="item-cancel"
              >
                {t('item.cancel')}
              </button>
            </div>
          </div>
          {!confirmCancel && <ErrorMessage error={actionError} testId="item-action-error" />}
          <ItemFacts item={item} currency={props.currency} />
          <AttemptList attempts={item.attempts} />
          {audit && <AuditTrail events={audit.events} />}
        </div>
      )}
      {confirmCancel && (
        <ConfirmDialog
          title={t('item.cancelConfirmTitle')}
          body={t('item.cancelConfirmBody')}
          busy={busy}
          error={actionError}
          onConfirm={() => void act('cancel')}
          onCancel={() => setConfirmCancel(false)}
        />
      )}
    </Modal>
  );
}
