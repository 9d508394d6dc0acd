import { useId } from 'react';
import { useI18n } from '../i18n/I18nContext.tsx';
import { FLAG_KEYS, type Readiness } from '../types.ts';

/** The eight computed principles; a false one is shown in red with "No", never hidden. */
export function SafetyFlags(props: { flags: Readiness['flags'] }) {
  const { t } = useI18n();
  const headingId = useId();
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{t('flags.heading')}</h2>
      <ul className="flags" data-testid="safety-flags">
        {FLAG_KEYS.map((k) => {
          const on = props.flags[k] === true;
          return (
            <li key={k} className="flag" data-testid={`flag-${k}`} data-value={String(on)}>
              <span>{t(`flag.${k}`)}</span>
              <span className={`badge badge--${on ? 'ok' : 'bad'}`}>
                <span aria-hidden="true">{on ? '✓ ' : '✕ '}</span>
                {on ? t('bool.true') : t('bool.false')}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
