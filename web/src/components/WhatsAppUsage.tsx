import { useId } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import { useLoad } from '../useLoad.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { Loading } from './Loading.tsx';

/** Share of the monthly cap from which the panel warns (issue 19: 80 %). */
export const CAP_WARNING_PERCENT = 80;

/**
 * This month's WhatsApp messages by Meta's pricing category and billable/free, the AZN estimate
 * from the operator's price table, and a warning once the tenant's monthly cap is 80 % used.
 */
export function WhatsAppUsage() {
  const { t, tv, money } = useI18n();
  const headingId = useId();
  const usage = useLoad(() => api.whatsappUsage(), []);
  const u = usage.data;
  // The month (2026-12) keeps its hyphen unbroken on a narrow screen.
  return (
    <section className="card" aria-labelledby={headingId} data-testid="wa-usage">
      <h2 id={headingId}>{t('waUsage.heading', { month: (u?.month ?? '').replace('-', '\u2011') })}</h2>
      <ErrorMessage error={usage.error} testId="wa-usage-error" />
      {!u && usage.loading && <Loading />}
      {u && (
        <>
          {u.cap && u.cap.percent >= CAP_WARNING_PERCENT && (
            <p className="notice" role="alert" data-testid="wa-usage-cap-warning">
              {t(u.cap.used >= u.cap.limit ? 'waUsage.capReached' : 'waUsage.capWarning', {
                used: u.cap.used,
                limit: u.cap.limit,
                percent: Math.round(u.cap.percent),
              })}
            </p>
          )}
          {u.counts.length === 0 ? (
            <p className="muted" data-testid="wa-usage-empty">
              {t('waUsage.empty')}
            </p>
          ) : (
            <ul className="list-reset usage" data-testid="wa-usage-counts">
              {u.counts.map((c) => (
                <li
                  key={`${c.category}-${c.billable}`}
                  className="usage__row"
                  data-testid={`wa-usage-${c.category}-${c.billable ? 'billable' : 'free'}`}
                >
                  <span>{tv('waUsage.category.', c.category)}</span>
                  <span className={`badge ${c.billable ? 'badge--warn' : 'badge--ok'}`}>
                    {t(c.billable ? 'waUsage.billable' : 'waUsage.free')}
                  </span>
                  <strong>{c.messages}</strong>
                </li>
              ))}
            </ul>
          )}
          <dl className="kv kv--inline">
            <div>
              <dt>{t('waUsage.totalBillable')}</dt>
              <dd data-testid="wa-usage-billable">{u.totals.billable}</dd>
            </div>
            <div>
              <dt>{t('waUsage.totalFree')}</dt>
              <dd data-testid="wa-usage-free">{u.totals.free}</dd>
            </div>
            <div>
              <dt>{t('waUsage.estimate')}</dt>
              <dd data-testid="wa-usage-estimate">
                {u.estimate.estimatedAzn === null
                  ? t('waUsage.noPrices')
                  : money(u.estimate.estimatedAzn, 'AZN')}
              </dd>
            </div>
            {u.cap && (
              <div>
                <dt>{t('waUsage.cap')}</dt>
                <dd data-testid="wa-usage-cap">
                  {t('waUsage.capValue', { used: u.cap.used, limit: u.cap.limit })}
                </dd>
              </div>
            )}
          </dl>
        </>
      )}
    </section>
  );
}
