import { clip, type Classified, type Rule } from './classify.ts';

/**
 * SMTP replies (RFC 5321 §4.2.1; RFC 4954 for AUTH) and nodemailer error codes
 * (docs/providers.md, "SMTP"): 4yz is a transient negative reply, retry later; 5yz is permanent,
 * never retry the same message; a connection that failed or dropped is retried.
 */
export const SMTP_REPLY_RULES: Readonly<Record<number, Rule>> = {
  421: { class: 'retryable', meaning: 'service not available, closing channel' },
  450: { class: 'retryable', meaning: 'mailbox unavailable or busy' },
  451: { class: 'retryable', meaning: 'local error in processing' },
  452: { class: 'retryable', meaning: 'insufficient storage or too many recipients' },
  454: { class: 'retryable', meaning: 'temporary authentication failure' },
  500: { class: 'permanent', meaning: 'syntax error' },
  501: { class: 'permanent', meaning: 'syntax error in parameters' },
  502: { class: 'permanent', meaning: 'command not implemented' },
  503: { class: 'permanent', meaning: 'bad sequence of commands' },
  504: { class: 'permanent', meaning: 'parameter not implemented' },
  530: { class: 'permanent', meaning: 'authentication required (configuration)' },
  535: { class: 'permanent', meaning: 'authentication credentials invalid (configuration)' },
  550: { class: 'permanent', meaning: 'mailbox unavailable or refused by policy' },
  551: { class: 'permanent', meaning: 'user not local' },
  552: { class: 'permanent', meaning: 'message size exceeds storage allocation' },
  553: { class: 'permanent', meaning: 'mailbox name not allowed' },
  554: { class: 'permanent', meaning: 'transaction failed' },
};

/** nodemailer's error classes when there is no reply code. */
export const SMTP_ERROR_RULES: ReadonlyMap<string, Rule> = new Map(
  Object.entries({
    ECONNECTION: { class: 'retryable', meaning: 'connection closed unexpectedly' },
    ETIMEDOUT: { class: 'retryable', meaning: 'connection or greeting timed out' },
    ESOCKET: { class: 'retryable', meaning: 'socket error (refused, reset, unreachable)' },
    EDNS: { class: 'retryable', meaning: 'host name did not resolve' },
    // The pool recycled a connection at its message limit: take another.
    EMAXLIMIT: { class: 'retryable', meaning: 'pooled connection reached its message limit' },
    ETLS: { class: 'permanent', meaning: 'TLS failed (configuration)' },
    EREQUIRETLS: { class: 'permanent', meaning: 'server lacks required TLS (configuration)' },
    EAUTH: { class: 'permanent', meaning: 'authentication failed (configuration)' },
    ENOAUTH: { class: 'permanent', meaning: 'no credentials for AUTH (configuration)' },
    ECONFIG: { class: 'permanent', meaning: 'transport configuration error' },
    EPROTOCOL: { class: 'retryable', meaning: 'invalid server response' },
    EENVELOPE: { class: 'permanent', meaning: 'sender or every recipient refused' },
    EMESSAGE: { class: 'permanent', meaning: 'message refused' },
  } satisfies Record<string, Rule>),
);

interface MailError {
  code?: unknown;
  responseCode?: unknown;
  command?: unknown;
  response?: unknown;
  message?: unknown;
}

/** Classifies a nodemailer error: the reply code decides when there is one, else the error class. */
export function classifySmtp(err: unknown): Classified {
  const e = (err && typeof err === 'object' ? err : {}) as MailError;
  const reply = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const kind = typeof e.code === 'string' ? e.code : undefined;
  const command = typeof e.command === 'string' ? ` at ${e.command}` : '';
  const text = clip(e.response ?? e.message, 300) || 'SMTP failure';
  if (reply !== undefined && reply >= 400 && reply <= 599) {
    const rule = SMTP_REPLY_RULES[reply] ?? {
      class: reply < 500 ? 'retryable' : 'permanent',
      meaning: reply < 500 ? 'transient' : 'permanent',
    };
    return { class: rule.class, code: `smtp_${reply}`, message: `${text}${command}`, providerCode: reply };
  }
  const rule = (kind && SMTP_ERROR_RULES.get(kind)) || { class: 'retryable' as const, meaning: 'unknown' };
  return {
    class: rule.class,
    code: `smtp_${(kind ?? 'error').toLowerCase()}`,
    message: `${text}${command}`,
    ...(kind ? { providerCode: kind } : {}),
  };
}

export type SmtpCutOffKind = 'timeout' | 'aborted';

/**
 * A send cut off by our deadline or the caller's signal while nodemailer was still talking to the
 * server. The message may already have been accepted (a cut during or after DATA), so the code says
 * "uncertain", not "refused": the row is retried like any transport failure (email is at-least-once),
 * and the retry carries the same Message-ID, so a duplicate is recognisable instead of blind.
 */
export function smtpCutOff(kind: SmtpCutOffKind, messageId: string): Classified {
  return {
    class: 'retryable',
    code: `smtp_${kind}`,
    message: `the send was cut off (${kind === 'timeout' ? 'deadline passed' : 'aborted'}) before the server answered; the message may have been delivered, and a retry reuses Message-ID ${messageId} so a duplicate is recognisable`,
  };
}

/** The caller's signal was already aborted: nothing was sent. */
export function smtpNotStarted(): Classified {
  return {
    class: 'retryable',
    code: 'smtp_aborted',
    message: 'the send was aborted before it started; nothing was sent',
  };
}
