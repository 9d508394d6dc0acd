import type { Config } from '../config/config.ts';
import type { HttpContext } from '../http/context.ts';
import type { ServiceModule } from '../kernel/module.ts';
import type { Db } from '../store/driver.ts';

/** What the OTP module needs from the running process (QA test numbers are added at start). */
export interface OtpHost {
  db: Db;
  config: Config;
}
import { getTenant } from '../store/tenants.ts';
import { addOwnerPhone } from './owners.ts';
import { otpRoutes } from './routes.ts';
import { OtpService, type OtpServiceOptions } from './service.ts';

/** The owner of the demo tenant (the subject of its bootstrap and login-link tokens). */
export const DEMO_OWNER = 'demo-owner';

/**
 * Owner sign-in as a service module: the /api/v1/auth routes, and in the QA runtime the configured
 * test numbers (OTP_TEST_NUMBERS) registered as phones of the demo owner, so QA can sign in to the
 * demo tenant without an SMS provider — the way Firebase's fictional numbers work.
 */
export function otpModule(
  opts: OtpServiceOptions = {},
): ServiceModule<OtpHost, HttpContext> & { service(): OtpService | null } {
  let service: OtpService | null = null;
  return {
    service: () => service,
    routes(app, ctx) {
      service = new OtpService(
        {
          db: ctx.db,
          config: ctx.config,
          redactor: ctx.redactor,
          logger: ctx.logger.child({ component: 'otp' }),
          registry: ctx.registry,
        },
        opts,
      );
      otpRoutes(app, ctx, service);
    },
    async start(rt) {
      if (rt.config.runtime !== 'qa' || rt.config.otpTestNumbers.size === 0) return;
      if (!(await getTenant(rt.db, rt.config.defaultTenant))) return;
      await rt.db.tx(
        async (q) => {
          for (const phone of rt.config.otpTestNumbers.keys()) {
            await addOwnerPhone(q, {
              tenantId: rt.config.defaultTenant,
              ownerId: DEMO_OWNER,
              phone,
              actor: 'system:otp-test-numbers',
            });
          }
        },
        { tenantId: rt.config.defaultTenant },
      );
    },
  };
}
