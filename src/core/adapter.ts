/** The provider adapter contract: what the dispatcher, readiness and the routes may ask of an adapter. */
import type { AdapterId, AdapterInfo, Channel } from './channels.ts';
import type { OutboxRow } from './rows.ts';

/** The exact request an adapter sends (or would send), secrets replaced by [REDACTED] when stored. */
export interface RenderedRequest {
  kind: 'http' | 'smtp' | 'lan' | 'client_sdk';
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: unknown;
  envelope?: { from: string; to: string[] };
  message?: Record<string, unknown>;
  note?: string;
}

/** Provider errors are classified once, at the adapter edge. */
export type ErrorClass = 'retryable' | 'permanent' | 'rate_limited';

/** `recipient`: only rows to that recipient wait; `account`: every send of the adapter waits. */
export type RateLimitScope = 'recipient' | 'account';

export type SendResult =
  | { outcome: 'sent'; providerMessageId: string | null; request: RenderedRequest; response?: unknown }
  | { outcome: 'delivered'; providerMessageId: string | null; request: RenderedRequest; response?: unknown }
  | {
      outcome: ErrorClass;
      errorCode: string;
      errorMessage: string;
      /** Provider-requested wait (Retry-After, retry_after), honoured as a floor. */
      retryAfterMs?: number;
      request: RenderedRequest;
      response?: unknown;
      /** Permanent errors that mean "the row could not be sent here", e.g. outside the 24 h window. */
      finalStatus?: 'dead' | 'expired' | 'blocked';
      /** Rate limits whose scope the provider states (WhatsApp 131056 recipient, 130429 account). */
      rateLimitScope?: RateLimitScope;
    };

export interface SendContext {
  signal: AbortSignal;
  tenant: { id: string; locale: string; timezone: string; currency: string };
}

export interface ProviderAdapter {
  readonly id: AdapterId;
  readonly info: AdapterInfo;
  /** Env names that must all be set for live mode. */
  readonly requiredEnv: readonly string[];
  missingEnv(): string[];
  /** The request `send` would make for this row, with secrets redacted (dry-run output). */
  render(row: OutboxRow): RenderedRequest;
  /** Live send. Never throws for provider errors: they come back classified. */
  send(row: OutboxRow, ctx: SendContext): Promise<SendResult>;
  /** On-demand credential check (never automatic in QA runtime). */
  verify?(
    signal: AbortSignal,
  ): Promise<{ ok: true; detail: string } | { ok: false; errorCode: string; message: string }>;
  close?(): Promise<void>;
}

/** The adapters this process sends through, by id and by channel. */
export interface ProviderRegistry {
  get(id: AdapterId): ProviderAdapter;
  all(): ProviderAdapter[];
  /** The adapter that serves a channel under the current config. */
  forChannel(channel: Channel): ProviderAdapter;
  close(): Promise<void>;
}
