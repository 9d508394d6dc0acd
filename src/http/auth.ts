import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { safeEqual } from '../core/secret-compare.ts';
import type { Principal, TokenRole } from '../store/tokens.ts';
import type { PrincipalCache } from './principal-cache.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function bearerOf(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]{16,512})$/.exec(h.trim());
  return m?.[1] ?? null;
}

/** No Authorization header at all (or an empty one), as opposed to one that holds no valid token. */
export function bearerMissing(req: FastifyRequest): boolean {
  const h = req.headers.authorization;
  return typeof h !== 'string' || h.trim() === '';
}

export const TOKEN_REQUIRED = 'A bearer token is required (Authorization: Bearer <token>).';
export const TOKEN_NOT_VALID = 'The bearer token is not valid: it is malformed, unknown, expired or revoked.';

/** preHandler factory: a valid bearer token with one of `roles`, scoped to its tenant. */
export function requireRole(principals: PrincipalCache, roles: readonly TokenRole[]) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    if (bearerMissing(req)) throw new AppError('unauthorized', TOKEN_REQUIRED);
    const token = bearerOf(req);
    const p = token ? await principals.find(token) : null;
    if (!p) throw new AppError('unauthorized', TOKEN_NOT_VALID);
    if (!roles.includes(p.role))
      throw new AppError('forbidden', `This route needs one of: ${roles.join(', ')}.`);
    req.principal = p;
  };
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('unauthorized', TOKEN_REQUIRED);
  return req.principal;
}

export function actorName(p: Principal): string {
  return `${p.role}:${p.subject}`;
}

/** preHandler of the operator API (/api/v1/admin/*): the bearer token must equal COMMS_ADMIN_TOKEN. */
export function requireOperator(adminToken: string | undefined) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const token = bearerOf(req);
    if (!adminToken || !token || !safeEqual(token, adminToken)) {
      throw new AppError(
        'unauthorized',
        bearerMissing(req)
          ? 'The operator token (COMMS_ADMIN_TOKEN) is required.'
          : 'The operator token is not valid.',
      );
    }
  };
}
