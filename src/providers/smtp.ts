import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Config } from '../config/config.ts';
import { adapterInfo } from '../core/channels.ts';
import type { OutboxRow } from '../store/rows.ts';
import { failureResult } from './classify.ts';
import { missingOf, valueOr, type AdapterDeps } from './common.ts';
import { adapterDeadlineMs } from './http.ts';
import { classifySmtp, smtpCutOff, smtpNotStarted, type SmtpCutOffKind } from './smtp-errors.ts';
import type { ProviderAdapter, RenderedRequest, SendResult, SendContext } from './types.ts';

const REQUIRED = ['SMTP_HOST', 'SMTP_PORT', 'SMTP_FROM'] as const;

/** Message-ID derived from the outbox id, so a duplicate delivery is recognisable by the receiver. */
export function messageIdFor(row: Pick<OutboxRow, 'id'>, from: string): string {
  const domain = from.includes('@') ? from.split('@').pop()!.replace(/[>\s]/g, '') : 'mupzaos.local';
  return `<outbox-${row.id}@${domain}>`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function emailMessage(row: OutboxRow, from: string): Record<string, unknown> {
  const text = row.body ?? '';
  return {
    from,
    to: row.target,
    subject: row.subject ?? row.title ?? 'MUPZAOS',
    text,
    html: `<!doctype html><html><head><meta charset="utf-8"></head><body><p>${escapeHtml(text).replace(/\n/g, '<br>')}</p></body></html>`,
    messageId: messageIdFor(row, from),
    headers: { 'X-Mupza-Outbox-Id': row.id },
  };
}

/** Transport options from config: timeouts from the provider timeout, no file or URL access in messages. */
export function smtpOptions(config: Config, pooled: boolean): SMTPPool.Options & SMTPTransport.Options {
  const e = config.env;
  const t = adapterDeadlineMs(e.COMMS_PROVIDER_TIMEOUT_MS);
  return {
    ...(pooled
      ? {
          pool: true as const,
          maxConnections: e.SMTP_POOL_MAX_CONNECTIONS,
          maxMessages: e.SMTP_POOL_MAX_MESSAGES,
        }
      : {}),
    host: e.SMTP_HOST,
    port: e.SMTP_PORT,
    secure: e.SMTP_SECURE === 'true',
    ignoreTLS: e.SMTP_IGNORE_TLS === 'true',
    ...(e.SMTP_USER && e.SMTP_PASS ? { auth: { user: e.SMTP_USER, pass: e.SMTP_PASS } } : {}),
    connectionTimeout: t,
    greetingTimeout: t,
    socketTimeout: t,
    dnsTimeout: t,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  };
}

/** The send was cut off by the deadline or the caller's signal before the server answered. */
class SmtpCutOff extends Error {
  constructor(readonly kind: SmtpCutOffKind) {
    super(`SMTP send cut off (${kind})`);
  }
}

function cutOffKind(signal: AbortSignal, deadline: AbortSignal): SmtpCutOffKind {
  const reason = signal.reason as { name?: unknown } | undefined;
  return deadline.aborted || reason?.name === 'TimeoutError' ? 'timeout' : 'aborted';
}

/** Settles with `p`, or rejects with `onAbort()` as soon as the signal aborts (the work itself goes on). */
function raceSignal<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  let listener = () => {};
  const aborted = new Promise<never>((_, reject) => {
    listener = () => reject(onAbort());
    if (signal.aborted) listener();
    else signal.addEventListener('abort', listener, { once: true });
  });
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener('abort', listener));
}

export function createSmtpAdapter(deps: AdapterDeps): ProviderAdapter {
  const { config, redactor } = deps;
  // One pooled transport per process, opened on the first live send and closed with the registry.
  let pool: Transporter<SMTPPool.SentMessageInfo> | null = null;
  const transport = () =>
    (pool ??= nodemailer.createTransport(smtpOptions(config, true) as SMTPPool.Options));

  const build = (row: OutboxRow): RenderedRequest => {
    const from = valueOr(config, 'SMTP_FROM');
    return {
      kind: 'smtp',
      url: `smtp://${valueOr(config, 'SMTP_HOST')}:${valueOr(config, 'SMTP_PORT')}`,
      envelope: { from, to: [row.target] },
      message: emailMessage(row, from),
      note: config.configured.has('SMTP_USER') ? 'AUTH as SMTP_USER with SMTP_PASS' : 'no AUTH',
    };
  };
  return {
    id: 'smtp',
    info: adapterInfo('smtp'),
    requiredEnv: REQUIRED,
    missingEnv: () => missingOf(config, ['SMTP_HOST', 'SMTP_PORT', 'SMTP_USER', 'SMTP_PASS', 'SMTP_FROM']),
    render: (row) => redactor.scrubValue(build(row)),
    async send(row: OutboxRow, ctx: SendContext): Promise<SendResult> {
      const request = redactor.scrubValue(build(row));
      const from = config.env.SMTP_FROM!;
      const messageId = messageIdFor(row, from);
      // Nothing left the process yet: an already-aborted send is certainly not delivered.
      if (ctx.signal.aborted) return failureResult(smtpNotStarted(), request);
      // nodemailer takes no AbortSignal, so the send is raced against the caller's signal and our own
      // deadline (a little shorter than the lane's, so the adapter classifies its own timeout).
      const deadline = AbortSignal.timeout(adapterDeadlineMs(config.env.COMMS_PROVIDER_TIMEOUT_MS));
      const signal = AbortSignal.any([ctx.signal, deadline]);
      try {
        const info = await raceSignal(
          transport().sendMail(emailMessage(row, from)),
          signal,
          () => new SmtpCutOff(cutOffKind(signal, deadline)),
        );
        return {
          outcome: 'sent',
          providerMessageId: info.messageId ?? messageId,
          request,
          response: {
            response: redactor.scrub(String(info.response ?? '')).slice(0, 300),
            accepted: info.accepted?.length ?? 0,
          },
        };
      } catch (err) {
        const c = err instanceof SmtpCutOff ? smtpCutOff(err.kind, messageId) : classifySmtp(err);
        return failureResult({ ...c, message: redactor.scrub(c.message) }, request);
      }
    },
    async verify(signal) {
      if (missingOf(config, REQUIRED).length)
        return {
          ok: false,
          errorCode: 'provider_not_configured',
          message: 'missing SMTP_HOST, SMTP_PORT or SMTP_FROM',
        };
      // A separate, unpooled connection: the check must not take a pooled slot or wait behind sends.
      const t = nodemailer.createTransport(smtpOptions(config, false) as SMTPTransport.Options);
      try {
        await raceSignal(t.verify(), signal, () =>
          Object.assign(new Error('the check was aborted'), { code: 'ETIMEDOUT' }),
        );
        return {
          ok: true,
          detail: `SMTP server ${config.env.SMTP_HOST}:${config.env.SMTP_PORT} accepted the connection${config.env.SMTP_USER ? ' and AUTH' : ''}`,
        };
      } catch (err) {
        const c = classifySmtp(err);
        return { ok: false, errorCode: c.code, message: redactor.scrub(c.message) };
      } finally {
        t.close();
      }
    },
    async close() {
      pool?.close();
      pool = null;
    },
  };
}
