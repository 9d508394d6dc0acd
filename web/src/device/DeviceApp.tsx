import { useCallback, useEffect, useState } from 'react';
import { LANGS, toLang, tr, type Key, type Lang } from './i18n.ts';
import { store, type Pairing } from './storage.ts';
import { PairScreen } from './PairScreen.tsx';
import { NotificationCenter } from './NotificationCenter.tsx';

const LANG_KEY = 'mupza.lang';
const NAMES: Record<Lang, string> = { az: 'Azərbaycanca', ru: 'Русский', en: 'English' };

function storedLang(): Lang {
  try {
    // As the owner panel: the choice made on this screen, else Azerbaijani.
    return toLang(localStorage.getItem(LANG_KEY));
  } catch {
    return 'az';
  }
}

/** The device app: the pairing screen until the screen holds a token, then the notification center. */
export function DeviceApp() {
  const [lang, setLangState] = useState<Lang>(storedLang);
  const [pairing, setPairing] = useState<Pairing | null>(() => store.pairing());
  const [notice, setNotice] = useState<Key | null>(null);
  const t = useCallback(
    (key: Key, params?: Record<string, string | number>) => tr(lang, key, params),
    [lang],
  );

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${tr(lang, 'brand')} — ${tr(lang, 'title')}`;
  }, [lang]);

  const setLang = (l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem(LANG_KEY, l);
    } catch {
      // The choice then lasts for this page only.
    }
  };

  const logout = useCallback((why: Key | null) => {
    store.clear();
    setPairing(null);
    setNotice(why);
  }, []);

  return (
    <div className="dev">
      <header className="dev__bar">
        <h1 className="dev__title">
          <span className="dev__brand">{t('brand')}</span> {t('title')}
        </h1>
        <div role="group" aria-label={t('lang')} className="dev__langs" data-testid="device-langs">
          {LANGS.map((l) => (
            <button
              key={l}
              type="button"
              lang={l}
              aria-pressed={l === lang}
              onClick={() => setLang(l)}
              data-testid={`device-lang-${l}`}
              title={NAMES[l]}
            >
              <span aria-hidden="true">{l.toUpperCase()}</span>
              <span className="sr-only">{NAMES[l]}</span>
            </button>
          ))}
        </div>
      </header>
      {pairing ? (
        <NotificationCenter key={pairing.token} pairing={pairing} lang={lang} t={t} onLogout={logout} />
      ) : (
        <PairScreen
          t={t}
          notice={notice}
          onPaired={(p) => {
            store.clear();
            store.setPairing(p);
            setNotice(null);
            setPairing(p);
          }}
        />
      )}
    </div>
  );
}
