import { useEffect, useRef, useState } from 'react';
import {
  DeviceClient,
  type DoneEvent,
  type InternetState,
  type Notification,
} from '../../../src/device-sdk/index.ts';
import { chime } from './chime.ts';
import { age, sourceName, type Key, type Lang } from './i18n.ts';
import { KEEP_ITEMS, store, type Item, type Pairing } from './storage.ts';

type T = (key: Key, params?: Record<string, string | number>) => string;
type Link = 'connecting' | 'live' | 'hubDown';

/** Undo is offered this long after a done mark (the hub enforces the same window). */
const UNDO_MS = 5 * 60_000;
/** One chime per burst: a replay of 20 missed items chimes once, not 20 times. */
const CHIME_GAP_MS = 1_500;
const FLASH_MS = 2_500;

/**
 * The live list: newest first, each item once (by seq), kept in storage with the last seq so a
 * reload or an outage resumes where it stood. "Done" is synced to every screen of the row.
 */
export function NotificationCenter(props: {
  pairing: Pairing;
  lang: Lang;
  t: T;
  onLogout(why: Key | null): void;
}) {
  const { t, lang, pairing } = props;
  const [items, setItems] = useState<Item[]>(() => store.items());
  const itemsRef = useRef(items);
  const [link, setLink] = useState<Link>('connecting');
  const [internet, setInternet] = useState<InternetState>('unknown');
  const [muted, setMuted] = useState(store.muted);
  const mutedRef = useRef(muted);
  const [flash, setFlash] = useState<ReadonlySet<number>>(new Set());
  const [now, setNow] = useState(Date.now());
  const clientRef = useRef<DeviceClient | null>(null);
  const onLogout = useRef(props.onLogout);
  onLogout.current = props.onLogout;

  useEffect(() => {
    mutedRef.current = muted;
    store.setMuted(muted);
  }, [muted]);

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(tick);
  }, []);

  useEffect(() => {
    const update = (next: Item[]) => {
      itemsRef.current = next;
      store.setItems(next);
      setItems(next);
    };
    let lastChime = 0;
    const client = new DeviceClient({
      url: window.location.origin,
      token: pairing.token,
      after: store.lastSeq(),
    });
    clientRef.current = client;
    client.on('notification', (n: Notification) => {
      const cur = itemsRef.current;
      if (!cur.some((i) => i.seq === n.seq)) {
        update([n, ...cur].sort((a, b) => b.seq - a.seq).slice(0, KEEP_ITEMS));
        setFlash((f) => new Set(f).add(n.seq));
        setTimeout(
          () =>
            setFlash((f) => {
              const g = new Set(f);
              g.delete(n.seq);
              return g;
            }),
          FLASH_MS,
        );
        const at = Date.now();
        if (!mutedRef.current && at - lastChime > CHIME_GAP_MS && !n.done) {
          lastChime = at;
          chime();
        }
      }
      // Stored after the item itself: a reload never skips an item it does not hold.
      store.setLastSeq(n.seq);
    });
    const mark = (d: DoneEvent, done: boolean) =>
      update(
        itemsRef.current.map((i) => {
          if (i.seq !== d.seq) return i;
          if (done) return { ...i, done: { by: d.by, byName: d.byName, at: d.at } };
          const { done: _gone, ...rest } = i;
          return rest;
        }),
      );
    client.on('done', (d) => mark(d, true));
    client.on('undo', (d) => mark(d, false));
    client.on('internet', setInternet);
    client.on('connection', (c) => {
      if (c.state === 'open') setLink('live');
      else if (c.state === 'closed' && (c.cause === 'revoked' || c.cause === 'unauthorized'))
        onLogout.current('pair.loggedOut');
      else if (c.state === 'closed' && c.cause === 'hub_unreachable') setLink('hubDown');
    });
    void client.connect().catch(() => undefined);
    return () => {
      clientRef.current = null;
      client.close();
    };
  }, [pairing.token]);

  const open = items.filter((i) => !i.done).length;

  return (
    <main className="dev__main">
      <div className="dev__status">
        <p
          className={`dev__banner ${link === 'hubDown' ? 'dev__banner--bad' : link === 'live' ? 'dev__banner--ok' : ''}`}
          role="status"
          data-testid="device-link"
          data-state={link}
        >
          {link === 'hubDown'
            ? t('state.hubDown')
            : link === 'live'
              ? t('state.live')
              : t('state.connecting')}
        </p>
        {link === 'live' && internet === 'down' && (
          <p className="dev__banner dev__banner--warn" role="status" data-testid="device-internet">
            {t('state.internetDown')}
          </p>
        )}
      </div>
      <div className="dev__tools">
        <p className="dev__count" data-testid="device-unread" data-count={open}>
          <span className="sr-only">{t('unread.label')}: </span>
          {t('unread', { n: open })}
        </p>
        <p className="dev__who">{t('device', { name: pairing.name })}</p>
        <button
          type="button"
          className="dev__btn"
          aria-pressed={muted}
          onClick={() => setMuted((m) => !m)}
          data-testid="device-mute"
        >
          {t('mute')}
        </button>
      </div>
      {items.length === 0 ? (
        <p className="dev__empty">{t('empty')}</p>
      ) : (
        <ol className="dev__list" data-testid="device-items" aria-label={t('title')}>
          {items.map((i) => {
            const canUndo = i.done !== undefined && now - new Date(i.done.at).getTime() < UNDO_MS;
            return (
              <li
                key={i.seq}
                className={`dev__item${i.done ? ' dev__item--done' : ''}${flash.has(i.seq) ? ' dev__item--flash' : ''}`}
                data-testid={`device-item-${i.seq}`}
                data-id={i.id}
                data-done={i.done ? 'true' : 'false'}
              >
                <div className="dev__itemtext">
                  <h2 className="dev__itemtitle">{i.title}</h2>
                  {i.body && <p className="dev__body">{i.body}</p>}
                  <p className="dev__meta">
                    <span>{t('from', { source: sourceName(lang, i.source) })}</span>
                    <span aria-hidden="true"> · </span>
                    <time dateTime={i.createdAt}>{age(lang, i.createdAt, now)}</time>
                  </p>
                  {i.done && (
                    <p className="dev__doneby" data-testid={`device-doneby-${i.seq}`}>
                      {i.done.by === clientRef.current?.deviceId || i.done.by === pairing.deviceId
                        ? t('doneByMe')
                        : t('doneBy', { name: i.done.byName })}
                    </p>
                  )}
                </div>
                {i.done ? (
                  canUndo && (
                    <button
                      type="button"
                      className="dev__btn dev__act"
                      onClick={() => clientRef.current?.undo(i.seq)}
                      data-testid={`device-undo-${i.seq}`}
                      aria-label={`${t('undo')}: ${i.title ?? ''}`}
                    >
                      {t('undo')}
                    </button>
                  )
                ) : (
                  <button
                    type="button"
                    className="dev__btn dev__btn--primary dev__act"
                    onClick={() => clientRef.current?.done(i.seq)}
                    data-testid={`device-done-${i.seq}`}
                    aria-label={`${t('done')}: ${i.title ?? ''}`}
                  >
                    {t('done')}
                  </button>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <p className="dev__foot">
        <button
          type="button"
          className="dev__link"
          onClick={() => props.onLogout(null)}
          data-testid="device-unpair"
        >
          {t('signOut')}
        </button>
      </p>
    </main>
  );
}
