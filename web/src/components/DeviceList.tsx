import { useId, useState } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import type { Device } from '../types.ts';
import { useLoad } from '../useLoad.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { DeviceForm } from './DeviceForm.tsx';
import { PairForm } from './PairForm.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';
import { Badge } from './StatusBadge.tsx';
import { PrinterList } from './PrinterList.tsx';

/** LAN devices: register (the token is shown once by DeviceForm), list, revoke after a confirmation. */
export function DeviceList() {
  const { t, tv, date } = useI18n();
  const headingId = useId();
  const devices = useLoad(() => api.devices(), []);
  const readiness = useLoad(() => api.readiness(), []);
  const internet = readiness.data?.internet ?? 'unknown';
  const [revoking, setRevoking] = useState<Device | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const list = devices.data?.devices ?? [];

  const revoke = async () => {
    if (!revoking) return;
    setBusy(true);
    setError(null);
    try {
      await api.removeDevice(revoking.id);
      setDone(t('devices.revoked', { name: revoking.name }));
      setRevoking(null);
      await devices.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby={headingId} data-testid="devices">
      <div className="card__head">
        <h2 id={headingId}>{t('devices.heading')}</h2>
        <button
          type="button"
          className="btn btn--small"
          onClick={() => void devices.reload()}
          data-testid="devices-refresh"
        >
          {t('devices.refresh')}
        </button>
      </div>
      <p className="muted small">{t('devices.intro')}</p>
      <p
        className={`small hub-internet hub-internet--${internet}`}
        data-testid="hub-internet"
        data-state={internet}
      >
        {t('devices.internet', { state: t(`internet.${internet}`) })}
      </p>
      <div className="devices">
        <div className="stack">
          <PairForm onPaired={() => void devices.reload()} />
          <DeviceForm onRegistered={() => void devices.reload()} />
        </div>
        <div>
          <ErrorMessage error={devices.error} testId="devices-error" />
          <p className="muted small" role="status" data-testid="devices-result">
            {done}
          </p>
          {devices.data && list.length === 0 && <p className="muted">{t('devices.empty')}</p>}
          <ul className="list-reset stack" data-testid="device-list" aria-busy={devices.loading}>
            {list.map((d) => (
              <li
                key={d.id}
                className="subcard device"
                data-testid={`device-${d.id}`}
                data-connected={String(d.connected)}
              >
                <div className="card__head">
                  <h3>{d.name}</h3>
                  {/* A printer has no socket: its live state is in the printers' list below. */}
                  {d.role !== 'printer' && (
                    <Badge tone={d.connected ? 'ok' : 'muted'}>
                      {d.connected ? t('devices.connected') : t('devices.offline')}
                    </Badge>
                  )}
                </div>
                <dl className="kv">
                  <dt>{t('devices.id')}</dt>
                  <dd>
                    <code>{d.id}</code>
                  </dd>
                  <dt>{t('devices.role')}</dt>
                  <dd>{tv('role.', d.role)}</dd>
                  <dt>{t('devices.created')}</dt>
                  <dd>{date(d.createdAt)}</dd>
                  <dt>{t('devices.lastSeen')}</dt>
                  <dd>{d.lastSeenAt ? date(d.lastSeenAt) : t('devices.never')}</dd>
                </dl>
                <button
                  type="button"
                  className="btn btn--small btn--danger"
                  onClick={() => {
                    setError(null);
                    setRevoking(d);
                  }}
                  data-testid={`device-revoke-${d.id}`}
                  aria-label={`${t('devices.revoke')}: ${d.name}`}
                >
                  {t('devices.revoke')}
                </button>
              </li>
            ))}
          </ul>
          <PrinterList reloadKey={list.length} />
        </div>
      </div>
      {revoking && (
        <ConfirmDialog
          title={t('devices.revokeTitle', { name: revoking.name })}
          body={t('devices.revokeBody')}
          busy={busy}
          error={error}
          onConfirm={() => void revoke()}
          onCancel={() => setRevoking(null)}
        />
      )}
    </section>
  );
}
