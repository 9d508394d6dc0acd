import { useId } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n/I18nContext.tsx';
import type { Me } from '../types.ts';
import { useLoad } from '../useLoad.ts';
import { Brand } from './Brand.tsx';
import { LanguageSwitcher } from './LanguageSwitcher.tsx';
import { OtpSignIn } from './OtpSignIn.tsx';
import { TokenSignIn } from './TokenSignIn.tsx';

export function SignIn(props: { sessionEnded: boolean; onSignedIn(token: string, me: Me): void }) {
  const { t, tv } = useI18n();
  const config = useLoad(() => api.authConfig(), []);
  const titleId = useId();
  const cfg = config.data;
  const firebaseProject = cfg?.firebase ? (cfg.firebase.projectId ?? cfg.firebase.authDomain ?? '') : null;

  return (
    <>
      <header className="topbar">
        <Brand />
        <div className="topbar__end">
          <LanguageSwitcher />
        </div>
      </header>
      <main id="main" className="center" data-testid="signin">
        <section className="card narrow" aria-labelledby={titleId}>
          <h1 id={titleId}>{t('signin.title')}</h1>
          <p className="muted">{t('signin.intro')}</p>
          {cfg && (
            <p className="muted small" data-testid="signin-runtime">
              {t('signin.runtime', { runtime: tv('runtime.', cfg.runtime) })}
            </p>
          )}
          {props.sessionEnded && (
            <p className="notice" role="status" data-testid="session-ended">
              {t('signin.sessionEnded')}
            </p>
          )}
          <OtpSignIn
            otpMissing={cfg ? cfg.otpMissing : null}
            turnstileSiteKey={cfg?.turnstileSiteKey}
            onSignedIn={props.onSignedIn}
          />
          {firebaseProject !== null && (
            <p className="notice" data-testid="firebase-note">
              {t('signin.firebaseNote', { project: firebaseProject || '—' })}
            </p>
          )}
          {/* Owner-token sign-in is for non-production runtimes only; production signs in by OTP. */}
          {cfg && cfg.runtime !== 'production' && <TokenSignIn onSignedIn={props.onSignedIn} />}
        </section>
      </main>
    </>
  );
}
