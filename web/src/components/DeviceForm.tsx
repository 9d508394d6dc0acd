import { useId, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import { ROLES, type Role } from '../types.ts';
import { CopyButton } from './CopyButton.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';

/**
 * Registers a LAN device. The server returns the device token once; it is kept only in this
 * component's state until the owner dismisses it, and never stored.
 */
export function DeviceForm(props: { onRegistered(): void }) {
  const { t } = useI18n();
  const ids = {
    id: useId(),
    hint: useId(),
    role: useId(),
    name: useId(),
    token: useId(),
    address: useId(),
    columns: useId(),
  };
  const [id, setId] = useState('');
  const [role, setRole] = useState<Role>('pos');
  const [name, setName] = useState('');
  // A printer is driven by the hub over TCP: it needs its address (docs/printers.md).
  const [address, setAddress] = useState('');
  const [columns, setColumns] = useState(48);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<{ id: string; token: string } | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api.addDevice({
        id: id.trim(),
        role,
        name: name.trim(),
        ...(role === 'printer' ? { printer: { address: address.trim(), columns } } : {}),
      });
      setCreated(res);
      setId('');
      setName('');
      props.onRegistered();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <div className="result token-once" role="status" data-testid="device-token-panel">
        <h3 id={ids.token}>{t('devices.tokenHeading', { id: created.id })}</h3>
        <p className="notice">{t('devices.tokenOnce')}</p>
        <p className="copyrow">
          <code className="secret" data-testid="device-token" aria-labelledby={ids.token}>
            {created.token}
          </code>
          <CopyButton text={created.token} testId="device-token-copy" />
        </p>
        <button
          type="button"
          className="btn"
          onClick={() => setCreated(null)}
          data-testid="device-token-done"
        >
          {t('devices.tokenDone')}
        </button>
      </div>
    );
  }

  return (
    <form className="form" onSubmit={(e) => void submit(e)} data-testid="device-form">
      <label htmlFor={ids.id}>{t('devices.id')}</label>
      <input
        id={ids.id}
        required
        pattern="[a-z0-9][a-z0-9._\-]{0,63}"
        value={id}
        onChange={(e) => setId(e.target.value)}
        aria-describedby={ids.hint}
        placeholder="pos-desktop-01"
        autoComplete="off"
        spellCheck={false}
        data-testid="device-id"
      />
      <p id={ids.hint} className="hint">
        {t('devices.idHint')}
      </p>
      <label htmlFor={ids.role}>{t('devices.role')}</label>
      <select
        id={ids.role}
        value={role}
        onChange={(e) => setRole(e.target.value as Role)}
        data-testid="device-role"
      >
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {t(`role.${r}`)}
          </option>
        ))}
      </select>
      <label htmlFor={ids.name}>{t('devices.name')}</label>
      <input
        id={ids.name}
        required
        value={name}
        onChange={(e) => setName(e.target.value)}
        data-testid="device-name"
      />
      {role === 'printer' && (
        <>
          <label htmlFor={ids.address}>{t('printers.address')}</label>
          <input
            id={ids.address}
            required
            value={address}
            onChange={(e) => setAddress(e.target.value)}
            placeholder="tcp://192.168.1.50:9100"
            autoComplete="off"
            spellCheck={false}
            data-testid="printer-address"
          />
          <label htmlFor={ids.columns}>{t('printers.columns')}</label>
          <select
            id={ids.columns}
            value={columns}
            onChange={(e) => setColumns(Number(e.target.value))}
            data-testid="printer-columns"
          >
            <option value={48}>48 (80 mm)</option>
            <option value={42}>42</option>
            <option value={32}>32 (58 mm)</option>
          </select>
        </>
      )}
      <button type="submit" className="btn btn--primary" disabled={busy} data-testid="device-register">
        {t('devices.register')}
      </button>
      <ErrorMessage error={error} testId="device-error" />
    </form>
  );
}
