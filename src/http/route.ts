import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HTTPMethods,
  RouteShorthandOptions,
} from 'fastify';
import type { z } from 'zod';
import { parseWith } from './errors.ts';
import type { RouteDoc } from './openapi.ts';

type Parsed<S> = S extends z.ZodType ? z.infer<S> : never;

/**
 * What a route's declaration validates, typed from it: each part is parsed with the schema the
 * route documents (the same object the OpenAPI document is generated from) when the handler first
 * reads it, so authentication in preHandler still answers before any validation error.
 */
export interface RouteInput<D extends RouteDoc> {
  readonly body: Parsed<D['body']>;
  readonly params: Parsed<D['params']>;
  readonly query: Parsed<D['query']>;
}

export type RouteOptions<D extends RouteDoc> = Omit<RouteShorthandOptions, 'config'> & { doc: D };

function inputOf<D extends RouteDoc>(doc: D, req: FastifyRequest): RouteInput<D> {
  const part = (schema: z.ZodType | undefined, value: unknown, name: string) => {
    if (!schema) throw new Error(`the route does not declare its ${name}`);
    return parseWith(schema, value);
  };
  return {
    get body() {
      // A route that may be called without a body (bodyOptional) reads a missing one as {}.
      return part(doc.body, req.body ?? (doc.bodyOptional ? {} : undefined), 'body') as Parsed<D['body']>;
    },
    get params() {
      return part(doc.params, req.params, 'params') as Parsed<D['params']>;
    },
    get query() {
      return part(doc.query, req.query ?? {}, 'query') as Parsed<D['query']>;
    },
  };
}

/**
 * Registers a route whose body, path parameters and query are declared once, in `doc`: the OpenAPI
 * document is generated from it, and the handler's `input` is validated and typed from it.
 */
export function route<const D extends RouteDoc>(
  app: FastifyInstance,
  method: HTTPMethods,
  url: string,
  options: RouteOptions<D>,
  handler: (parsed: RouteInput<D>, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): void {
  const { doc, ...rest } = options;
  app.route({
    ...rest,
    method,
    url,
    config: { openapi: doc },
    handler: (req, reply) => handler(inputOf(doc, req), req, reply),
  });
}
