import { useI18n } from '../i18n/I18nContext.tsx';

type Tone = 'ok' | 'info' | 'progress' | 'wait' | 'warn' | 'bad' | 'muted';

const TONE: Record<string, Tone> = {
  queued: 'wait',
  ready: 'progress',
  sending: 'progress',
  mock_sent: 'info',
  sent: 'ok',
  delivered: 'ok',
  read: 'ok',
  failed: 'warn',
  dead: 'bad',
  blocked: 'bad',
  expired: 'muted',
  cancelled: 'muted',
};

/** An outbox status as colour and translated text (never colour alone). */
export function StatusBadge(props: { status: string }) {
  const { tv } = useI18n();
  return (
    <span className={`badge badge--${TONE[props.status] ?? 'muted'}`} data-status={props.status}>
      {tv('status.', props.status)}
    </span>
  );
}

/** Any other small label with a tone. */
export function Badge(props: { tone: Tone; children: string; testId?: string }) {
  return (
    <span className={`badge badge--${props.tone}`} data-testid={props.testId}>
      {props.children}
    </span>
  );
}
