import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../core/errors.ts';

/**
 * OpenAPI 3.1, generated from the routes themselves: every route declares `config.openapi` with
 * its zod schemas and the error codes it can answer. Routes are collected as they are registered,
 * so a route without a description is caught by test/http/openapi.test.ts.
 */
export interface RouteDoc {
  summary: string;
  tags?: string[];
  /** Who may call it: a bearer role, the operator token, a webhook signature, or nobody in particular. */
  auth: 'owner' | 'owner_or_service' | 'device' | 'any_token' | 'operator' | 'webhook' | 'public';
  body?: z.ZodType;
  /** The body may be left out (the route reads a missing body as {}). */
  bodyOptional?: boolean;
  /** Media type of the body, when not application/json (webhooks: the raw bytes are signed). */
  bodyContentType?: string;
  query?: z.ZodType;
  params?: z.ZodType;
  /** Success status and either a zod schema of the body or a description of a non-JSON answer. */
  response?: { status: number; schema?: z.ZodType; description?: string; contentType?: string };
  errors?: ErrorCode[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    openapi?: RouteDoc;
  }
  interface FastifyInstance {
    /** Every route registered on the app, as collected for the OpenAPI document. */
    collectedRoutes: CollectedRoute[];
  }
}

export interface CollectedRoute {
  method: string;
  url: string;
  doc: RouteDoc | undefined;
}

/** Errors every authenticated JSON route can give, besides its own. */
const COMMON: ErrorCode[] = [
  'bad_request',
  'payload_too_large',
  'unsupported_media_type',
  'internal_error',
  'store_unavailable',
];

export function collectRoutes(app: FastifyInstance): CollectedRoute[] {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) {
      if (m === 'HEAD' || m === 'OPTIONS') continue;
      routes.push({ method: m, url: r.url, doc: (r.config as { openapi?: RouteDoc } | undefined)?.openapi });
    }
  });
  return routes;
}

const toPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');
const json = (s: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' });

export function buildOpenApi(routes: readonly CollectedRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (!r.doc || r.url === '/*' || r.url === '/openapi.json') continue;
    const d = r.doc;
    const op: Record<string, unknown> = {
      summary: d.summary,
      tags: d.tags ?? [],
      operationId: `${r.method.toLowerCase()}${toPath(r.url).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    };
    // Public and webhook operations say so explicitly: no bearer token (webhooks carry their own
    // signature or secrets, described in the summary).
    op.security = d.auth === 'public' || d.auth === 'webhook' ? [] : [{ bearer: [] }];
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', d.params],
      ['query', d.query],
    ] as const) {
      if (!schema) continue;
      const js = json(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (js.required ?? []).includes(name),
          schema: s,
        });
      }
    }
    for (const m of /\{(\w+)\}/g[Symbol.matchAll](toPath(r.url))) {
      if (!parameters.some((p) => (p as { name: string }).name === m[1]))
        parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
    }
    if (parameters.length) op.parameters = parameters;
    if (d.body)
      op.requestBody = {
        required: !d.bodyOptional,
        content: { [d.bodyContentType ?? 'application/json']: { schema: json(d.body, 'input') } },
      };
    const responses: Record<string, unknown> = {};
    const ok = d.response ?? { status: 200 };
    responses[String(ok.status)] = {
      description: ok.description ?? 'OK',
      ...(ok.schema
        ? { content: { [ok.contentType ?? 'application/json']: { schema: json(ok.schema, 'output') } } }
        : ok.contentType
          ? { content: { [ok.contentType]: { schema: { type: 'string' } } } }
          : {}),
    };
    const codes = [
      ...new Set<ErrorCode>([
        ...(d.errors ?? []),
        ...(d.body && d.auth !== 'webhook' ? (['secret_in_content'] as ErrorCode[]) : []),
        ...(d.auth === 'public' || d.auth === 'webhook' ? [] : (['unauthorized'] as ErrorCode[])),
        ...COMMON,
      ]),
    ];
    const byStatus = new Map<number, ErrorCode[]>();
    for (const c of codes)
      byStatus.set(ERROR_CODES[c].status, [...(byStatus.get(ERROR_CODES[c].status) ?? []), c]);
    for (const [status, cs] of byStatus) {
      responses[String(status)] = {
        description: cs.map((c) => `\`${c}\`: ${ERROR_CODES[c].description}`).join(' '),
        content: {
          'application/json': {
            schema: { $ref: '#/components/schemas/Error' },
            examples: Object.fromEntries(
              cs.map((c) => [c, { value: { error: c, message: ERROR_CODES[c].description } }]),
            ),
          },
        },
      };
    }
    op.responses = responses;
    (paths[toPath(r.url)] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'MUPZAOS Communication Foundation',
      version,
      description: 'Durable audited outbox: OTP, WhatsApp, Telegram, email and LAN in-app notifications.',
      license: { name: 'UNLICENSED' },
    },
    // Relative: the document is served by the service it describes, at that service's own address.
    servers: [{ url: '/', description: 'This service (the host that serves this document)' }],
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Owner, device, service or operator token' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', enum: Object.keys(ERROR_CODES), description: 'Stable error code' },
            message: { type: 'string' },
            requestId: { type: 'string' },
            details: { type: 'object' },
          },
        },
      },
      'x-error-codes': Object.fromEntries(
        Object.entries(ERROR_CODES).map(([k, v]) => [k, { status: v.status, description: v.description }]),
      ),
    },
    paths,
  };
}
