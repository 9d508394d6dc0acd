import { useState } from 'react';
import { useI18n } from '../i18n/I18nContext.tsx';

/** The Clipboard API needs a secure context (https or localhost); a LAN http address falls back. */
async function copyText(text: string): Promise<boolean> {
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall through to the older way
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

export function CopyButton(props: { text: string; testId?: string }) {
  const { t } = useI18n();
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <>
      <button
        type="button"
        className="btn btn--small"
        data-testid={props.testId}
        onClick={() => {
          void copyText(props.text).then((ok) => setState(ok ? 'copied' : 'failed'));
        }}
      >
        {state === 'copied' ? t('copy.copied') : t('copy.copy')}
      </button>
      <span role="status" className={state === 'failed' ? 'error-inline' : 'sr-only'}>
        {state === 'failed' ? t('copy.failed') : state === 'copied' ? t('copy.copied') : ''}
      </span>
    </>
  );
}
