import { useI18n } from '../i18n/I18nContext.tsx';
import type { EnvName } from '../types.ts';

/** Env names with configured / missing; values never reach the browser. */
export function EnvList(props: { env: EnvName[] }) {
  const { t } = useI18n();
  if (props.env.length === 0) return <p className="muted">{t('env.none')}</p>;
  return (
    <ul className="env" aria-label={t('env.label')}>
      {props.env.map((e) => (
        <li
          key={e.name}
          data-testid={`env-${e.name}`}
          data-configured={String(e.configured)}
          {...(e.optional ? { 'data-optional': 'true' } : {})}
        >
          <code>{e.name}</code>
          <span className={`badge badge--${e.configured ? 'ok' : e.optional ? 'muted' : 'wait'}`}>
            {e.configured ? t('env.configured') : e.optional ? t('env.optional') : t('env.missing')}
          </span>
        </li>
      ))}
    </ul>
  );
}
