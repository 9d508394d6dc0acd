import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import { runLiveStream, type LiveState } from '../live.ts';
import type { LiveEvent, Me, StatusAnswer } from '../types.ts';
import { useLoad } from '../useLoad.ts';
import { useOutbox } from '../useOutbox.ts';
import { AdapterList } from './AdapterList.tsx';
import { AuditDrawer } from './AuditDrawer.tsx';
import { ContractList } from './ContractList.tsx';
import { DeviceList } from './DeviceList.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';
import { Header } from './Header.tsx';
import { LiveRegion } from './LiveRegion.tsx';
import { Loading } from './Loading.tsx';
import { OptInToggles } from './OptInToggles.tsx';
import { OutboxSection } from './OutboxSection.tsx';
import { ReadinessSummary } from './ReadinessSummary.tsx';
import { SafetyFlags } from './SafetyFlags.tsx';
import { SendTestForm } from './SendTestForm.tsx';
import { TelegramLink } from './TelegramLink.tsx';
import { WhatsAppUsage } from './WhatsAppUsage.tsx';

// Live events come in bursts (one per status change); refetch once per burst.
const DEBOUNCE_MS = 300;

export function Dashboard(props: { me: Me; onLogout(): void }) {
  const { t, tv } = useI18n();
  const readiness = useLoad(() => api.readiness(), []);
  const outbox = useOutbox();
  const [openId, setOpenId] = useState<string | null>(null);
  const [drawerKey, setDrawerKey] = useState(0);
  const [live, setLive] = useState<LiveState>({ kind: 'connecting' });
  const [announcement, setAnnouncement] = useState('');

  const latest = useRef({ outbox, readiness, openId, t, tv });
  latest.current = { outbox, readiness, openId, t, tv };
  const pending = useRef(new Map<string, string>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const opened = useRef(false);

  /** Re-reads what a change can touch: readiness counts, the loaded outbox rows, the open item. */
  const refreshAll = useCallback((drawerToo: boolean) => {
    const cur = latest.current;
    if (drawerToo) setDrawerKey((k) => k + 1);
    void cur.readiness.reload();
    return cur.outbox.refresh();
  }, []);

  const flush = useCallback(async () => {
    timer.current = null;
    const changes = new Map(pending.current);
    pending.current.clear();
    const { openId: open, outbox: before, t: tr, tv: tval } = latest.current;
    const known = new Set(before.items.map((i) => i.id));
    const items = (await refreshAll(open !== null && changes.has(open))) ?? before.items;
    const lines = [...changes].map(([id, status]) => {
      const item = items.find((i) => i.id === id);
      const params = {
        title: item?.title ?? item?.subject ?? tr('outbox.untitled'),
        status: tval('status.', item?.status ?? status),
      };
      return known.has(id) ? tr('live.itemChanged', params) : tr('live.newItem', params);
    });
    setAnnouncement(lines.join(' '));
  }, [refreshAll]);

  const onEvent = useCallback(
    (e: LiveEvent) => {
      if (e.type !== 'outbox' || !e.id) return;
      pending.current.set(e.id, e.status ?? '');
      timer.current ??= setTimeout(() => void flush(), DEBOUNCE_MS);
    },
    [flush],
  );

  const onState = useCallback(
    (state: LiveState) => {
      setLive(state);
      if (state.kind !== 'open') return;
      // Events sent while the stream was down are lost: catch up once it is back.
      if (opened.current) void refreshAll(latest.current.openId !== null);
      opened.current = true;
    },
    [refreshAll],
  );

  useEffect(() => {
    const abort = new AbortController();
    void runLiveStream(abort.signal, onEvent, onState);
    return () => {
      abort.abort();
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    };
  }, [onEvent, onState]);

  /** After the owner's own action: refresh now rather than waiting for the live event. */
  const changed = useCallback(
    (answer: StatusAnswer) => {
      setAnnouncement(t('item.actionDone', { status: tv('status.', answer.status) }));
      void refreshAll(false);
    },
    [t, tv, refreshAll],
  );

  const r = readiness.data;
  return (
    <>
      <a href="#main" className="skip">
        {t('app.skipToMain')}
      </a>
      <Header me={props.me} live={live} onLogout={props.onLogout} />
      <main id="main" className="page" tabIndex={-1}>
        <div className="hero">
          <h1>{t('app.title')}</h1>
          <p className="hero__sub">{t('app.subtitle')}</p>
          <p className="muted">{t('app.intro')}</p>
        </div>
        <ErrorMessage error={readiness.error} testId="readiness-error" />
        {!r && readiness.loading && <Loading />}
        {r && <ReadinessSummary readiness={r} />}
        {r && <SafetyFlags flags={r.flags} />}
        {r && <ContractList contracts={r.contracts} />}
        <OutboxSection outbox={outbox} onOpen={setOpenId} />
        <div className="grid grid--wide">
          <SendTestForm onQueued={changed} onOpen={setOpenId} />
          <OptInToggles />
          <TelegramLink />
          <WhatsAppUsage />
        </div>
        <DeviceList />
        {r && <AdapterList adapters={r.adapters} />}
      </main>
      <LiveRegion message={announcement} />
      {openId && (
        <AuditDrawer
          id={openId}
          currency={props.me.tenant.currency}
          refreshKey={drawerKey}
          onClose={() => setOpenId(null)}
          onChanged={changed}
        />
      )}
    </>
  );
}
