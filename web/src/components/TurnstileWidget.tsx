import { useEffect, useRef } from 'react';

/** The part of Cloudflare's browser API used here (developers.cloudflare.com/turnstile/get-started/client-side-rendering/). */
interface TurnstileApi {
  render(el: HTMLElement, opts: Record<string, unknown>): string;
  remove(id: string): void;
}
declare global {
  interface Window {
    turnstile?: TurnstileApi;
  }
}

const SCRIPT_SRC = 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit';
let loading: Promise<TurnstileApi> | null = null;

function loadTurnstile(): Promise<TurnstileApi> {
  if (window.turnstile) return Promise.resolve(window.turnstile);
  loading ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = SCRIPT_SRC;
    s.async = true;
    s.onload = () =>
      window.turnstile ? resolve(window.turnstile) : reject(new Error('turnstile did not load'));
    s.onerror = () => {
      loading = null;
      reject(new Error('turnstile did not load'));
    };
    document.head.appendChild(s);
  });
  return loading;
}

/**
 * Cloudflare Turnstile on the sign-in form, shown when the server names a site key. The token goes
 * with OTP start (the server checks it, with the action below, before anything else); a token is
 * single use, so the parent remounts this widget (a new `key`) after each attempt.
 */
export function TurnstileWidget(props: {
  siteKey: string;
  lang: string;
  onToken(token: string | null): void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const { siteKey, lang, onToken } = props;
  useEffect(() => {
    let id: string | null = null;
    let gone = false;
    void loadTurnstile()
      .then((ts) => {
        if (gone || !box.current) return;
        id = ts.render(box.current, {
          sitekey: siteKey,
          action: 'otp_start',
          language: lang,
          callback: (token: string) => onToken(token),
          'expired-callback': () => onToken(null),
          'error-callback': () => onToken(null),
        });
      })
      .catch(() => onToken(null));
    return () => {
      gone = true;
      if (id !== null) window.turnstile?.remove(id);
    };
  }, [siteKey, lang, onToken]);
  return <div ref={box} className="turnstile" data-testid="turnstile-widget" />;
}
