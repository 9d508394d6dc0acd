import { useI18n } from '../i18n/I18nContext.tsx';
import type { LiveState } from '../live.ts';

/** Whether the page is receiving live updates; the announcements themselves go to LiveRegion. */
export function LiveStatus(props: { state: LiveState }) {
  const { t } = useI18n();
  const s = props.state;
  const text =
    s.kind === 'open'
      ? t('live.connected')
      : s.kind === 'waiting'
        ? t('live.reconnecting', { s: s.seconds })
        : t('live.connecting');
  return (
    <span className={`live live--${s.kind}`} data-testid="live-status" data-state={s.kind}>
      <span className="live__dot" aria-hidden="true" />
      {text}
    </span>
  );
}
