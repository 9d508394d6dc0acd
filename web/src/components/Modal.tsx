import { useEffect, useRef, type ReactNode } from 'react';

/**
 * A modal <dialog>: the browser makes the page behind it inert and keeps focus inside.
 * On open, focus goes to the element marked data-autofocus (else the browser's choice);
 * on close, focus returns to whatever had it before.
 */
export function Modal(props: {
  labelledBy: string;
  onClose(): void;
  className?: string;
  testId?: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;

  useEffect(() => {
    const dlg = ref.current;
    if (!dlg) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    let closingOurselves = false;
    const handleClose = () => {
      // 'close' is dispatched later than close() is called: when the effect re-runs on the same
      // element (StrictMode in development does this) the cleanup's close() arrives after the
      // dialog was opened again. An open dialog has not been closed.
      if (dlg.open) return;
      if (closingOurselves) closingOurselves = false;
      else onClose.current();
    };
    const handleCancel = (e: Event) => {
      e.preventDefault();
      onClose.current();
    };
    dlg.addEventListener('close', handleClose);
    dlg.addEventListener('cancel', handleCancel);
    if (!dlg.open) dlg.showModal();
    dlg.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    return () => {
      dlg.removeEventListener('close', handleClose);
      dlg.removeEventListener('cancel', handleCancel);
      if (dlg.open) {
        closingOurselves = true;
        dlg.close();
      }
      if (opener?.isConnected) {
        opener.focus();
        // The opener may be disabled by now (an action in flight): fall back to its dialog's default.
        if (document.activeElement !== opener) {
          opener.closest('dialog')?.querySelector<HTMLElement>('[data-autofocus]')?.focus();
        }
      }
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={props.className ?? 'modal'}
      aria-labelledby={props.labelledBy}
      data-testid={props.testId}
    >
      {props.children}
    </dialog>
  );
}
