import type { Redactor } from '../core/redact.ts';

/**
 * The one HTTP helper every HTTP adapter uses: a timeout and caller AbortSignal on every call, and
 * transport failures wrapped into a typed error whose message is scrubbed of secrets (fetch errors
 * can echo the URL, and the Telegram token sits in the URL path).
 */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  json: unknown;
}

export type TransportErrorKind = 'timeout' | 'aborted' | 'connection' | 'dns' | 'reset' | 'other';

export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

function classify(err: unknown): TransportErrorKind {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  const code = e?.cause?.code ?? e?.code ?? '';
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'timeout';
  if (e?.name === 'AbortError') return 'aborted';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'reset';
  if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'EHOSTUNREACH')
    return 'connection';
  return 'other';
}

export async function httpCall(req: HttpRequest, redactor: Redactor): Promise<HttpResponse> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      redirect: 'manual',
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  } catch (err) {
    const kind = timeout.aborted ? 'timeout' : classify(err);
    const e = err as { message?: string; cause?: { message?: string; code?: string } };
    const detail = [e?.message, e?.cause?.code, e?.cause?.message].filter(Boolean).join(': ');
    // No cause is attached: the original error can carry the URL (and with it a token).
    throw new TransportError(kind, redactor.scrub(withoutUrl(`${kind}: ${detail}`, req.url)).slice(0, 500));
  }
}

/**
 * Removes the request URL from an error text before the redactor sees it, so a secret in the URL
 * (the Telegram token, userinfo) is gone even if the redactor was built without it.
 */
export function withoutUrl(text: string, url: string): string {
  let out = text;
  const forms = new Set([url]);
  try {
    forms.add(new URL(url).href);
  } catch {
    // An unparsable URL is only removed in the form it was given.
  }
  for (const f of forms) if (f) out = out.split(f).join('<request url>');
  // Belt and braces for the Bot API path shape and for userinfo, in whatever form they were echoed.
  return out.replace(/\/bot[^/\s]+\//g, '/bot[REDACTED]/').replace(/\/\/[^/\s@]*@/g, '//[REDACTED]@');
}

/**
 * The deadline an adapter gives its own call: a little shorter than the lane's, so the adapter
 * classifies its own timeout (a Twilio create timeout must not become a blind retry) before the
 * lane's generic timeout fires.
 */
export function adapterDeadlineMs(laneTimeoutMs: number): number {
  return Math.max(50, laneTimeoutMs - Math.min(500, Math.floor(laneTimeoutMs / 5)));
}

/** Retry-After as milliseconds: seconds or an HTTP date; undefined when absent or garbage. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Sends a rendered JSON request (what dry-run stores is exactly what goes out). Transport failures
 * come back as a value so the adapter can classify them beside HTTP answers.
 */
export async function callRendered(
  req: { method?: string; url?: string; headers?: Record<string, string>; body?: unknown },
  opts: { timeoutMs: number; signal: AbortSignal },
  redactor: Redactor,
): Promise<HttpResponse | TransportError> {
  try {
    return await httpCall(
      {
        method: req.method as 'GET' | 'POST',
        url: req.url!,
        headers: req.headers ?? {},
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
      },
      redactor,
    );
  } catch (err) {
    if (err instanceof TransportError) return err;
    throw err;
  }
}
