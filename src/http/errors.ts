import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppError, ERROR_CODES, isAppError, type ErrorCode } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';

/** Parses a body or query with a schema; failures become validation_failed with the field path. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.join('.') || '(body)';
  throw new AppError('validation_failed', `${path}: ${issue?.message ?? 'invalid'}`, {
    details: { field: path },
  });
}

// A Map: an error's code is not ours, and a plain object would answer prototype names.
const FASTIFY_CODES: ReadonlyMap<string, ErrorCode> = new Map(
  Object.entries({
    FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
    FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
    FST_ERR_VALIDATION: 'validation_failed',
    FST_ERR_NOT_FOUND: 'not_found',
    FST_ERR_BAD_URL: 'bad_request',
    FST_ERR_ASYNC_CONSTRAINT: 'bad_request',
  } satisfies Record<string, ErrorCode>),
);

export function toAppError(err: unknown, redactor: Redactor): AppError {
  if (isAppError(err)) return err;
  const fe = err as Partial<FastifyError> & { type?: string };
  if (fe && typeof fe === 'object') {
    const mapped = typeof fe.code === 'string' ? FASTIFY_CODES.get(fe.code) : undefined;
    if (mapped) return new AppError(mapped, redactor.scrub(fe.message ?? mapped));
    if (err instanceof SyntaxError || fe.type === 'entity.parse.failed') {
      return new AppError('bad_request', 'The body is not valid JSON.');
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code: ErrorCode =
        fe.statusCode === 413
          ? 'payload_too_large'
          : fe.statusCode === 415
            ? 'unsupported_media_type'
            : fe.statusCode === 404
              ? 'not_found'
              : 'bad_request';
      return new AppError(code, redactor.scrub(fe.message ?? 'bad request'));
    }
  }
  return new AppError('internal_error', 'An unexpected error occurred.', { cause: err });
}

export function sendError(reply: FastifyReply, req: FastifyRequest, e: AppError): FastifyReply {
  if (e.headers) for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
  return reply
    .code(e.status)
    .type('application/json; charset=utf-8')
    .send({
      error: e.code,
      message: e.message,
      requestId: req.id,
      ...(e.details ? { details: e.details } : {}),
    });
}

export function statusOfCode(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
