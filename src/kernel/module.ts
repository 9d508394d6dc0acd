import type { FastifyInstance } from 'fastify';

/** How a process runs: everything, the API alone, or the dispatcher alone. */
export type RuntimeMode = 'serve' | 'api' | 'dispatch';

/**
 * A feature of the service (LAN hub, webhooks, OTP, …): its HTTP routes and the part that runs
 * with the process. `Host` is what the feature needs from the running process, named by the
 * feature itself, so no feature imports the composition root (src/app), which hands itself over;
 * `Ctx` is the context its routes get.
 */
export interface ServiceModule<Host, Ctx> {
  routes?(app: FastifyInstance, ctx: Ctx): void | Promise<void>;
  start?(host: Host): Promise<void>;
  stop?(): Promise<void>;
}
