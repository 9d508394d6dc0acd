import { useCallback, useEffect, useState } from 'react';
import { api, getToken, setToken, setUnauthorizedHandler, takeTokenFromHash } from '../api.ts';
import { I18nProvider, useI18n } from '../i18n/I18nContext.tsx';
import type { Me } from '../types.ts';
import { Dashboard } from './Dashboard.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';
import { Loading } from './Loading.tsx';
import { SignIn } from './SignIn.tsx';

type Phase =
  | { kind: 'checking' }
  | { kind: 'signedOut'; sessionEnded: boolean }
  | { kind: 'signedIn'; me: Me }
  | { kind: 'error'; error: unknown };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });

  const check = useCallback(() => {
    if (!getToken()) {
      setPhase({ kind: 'signedOut', sessionEnded: false });
      return;
    }
    setPhase({ kind: 'checking' });
    api.me().then(
      (me) => setPhase({ kind: 'signedIn', me }),
      (error: unknown) => {
        // A 401 is handled by the unauthorized handler below; anything else (server down) is shown.
        if (getToken()) setPhase({ kind: 'error', error });
      },
    );
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setPhase((p) => ({ kind: 'signedOut', sessionEnded: p.kind === 'signedIn' }));
    });
    takeTokenFromHash();
    check();
    // A login link opened in a tab already showing the panel only changes the hash.
    const onHash = () => {
      if (takeTokenFromHash()) check();
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [check]);

  const signedIn = (token: string, me: Me) => {
    setToken(token);
    setPhase({ kind: 'signedIn', me });
  };

  const logout = async () => {
    try {
      await api.logout();
    } catch {
      // The session is dropped locally whatever the server answers.
    }
    setToken(null);
    setPhase({ kind: 'signedOut', sessionEnded: false });
  };

  const tenant = phase.kind === 'signedIn' ? phase.me.tenant : null;
  return (
    <I18nProvider tenantLocale={tenant?.locale ?? null} timeZone={tenant?.timezone ?? null}>
      {phase.kind === 'checking' && <Loading />}
      {phase.kind === 'error' && <StartupError error={phase.error} onRetry={check} />}
      {phase.kind === 'signedOut' && <SignIn sessionEnded={phase.sessionEnded} onSignedIn={signedIn} />}
      {phase.kind === 'signedIn' && <Dashboard me={phase.me} onLogout={() => void logout()} />}
    </I18nProvider>
  );
}

function StartupError(props: { error: unknown; onRetry(): void }) {
  const { t } = useI18n();
  return (
    <main className="center">
      <div className="card narrow">
        <ErrorMessage error={props.error} />
        <button type="button" className="btn btn--primary" onClick={props.onRetry}>
          {t('app.retry')}
        </button>
      </div>
    </main>
  );
}
