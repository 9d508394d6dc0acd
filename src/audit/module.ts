import type { Logger } from 'pino';
import type { HttpContext } from '../http/context.ts';
import type { RuntimeMode, ServiceModule } from '../kernel/module.ts';
import type { Db } from '../store/driver.ts';

/** What the audit sealer needs from the running process. */
export interface AuditHost {
  db: Db;
  logger: Logger;
  mode: RuntimeMode;
}
import { principalOf, requireRole } from '../http/auth.ts';
import { sealTenant, verifyTenant } from './chain.ts';
import { AuditSealer } from './sealer.ts';
import { AuditVerify } from '../http/api-schemas.ts';
import { route } from '../http/route.ts';

/** Tamper-evident audit: the sealer loop and GET /api/v1/audit/verify. */
export function auditModule(): ServiceModule<AuditHost, HttpContext> {
  let sealer: AuditSealer | null = null;
  return {
    routes(app, ctx) {
      route(
        app,
        'GET',
        '/api/v1/audit/verify',
        {
          preHandler: requireRole(ctx.principals, ['owner', 'service']),
          doc: {
            summary: "Verify the tenant's audit hash chain; reports the first broken link",
            tags: ['audit'],
            auth: 'owner_or_service',
            response: { status: 200, schema: AuditVerify },
            errors: ['forbidden'],
          },
        },
        async (_parsed, req) => {
          const p = principalOf(req);
          while ((await sealTenant(ctx.db, p.tenant.id)) > 0);
          return verifyTenant(ctx.db, p.tenant.id);
        },
      );
    },
    async start(rt) {
      if (rt.mode === 'api') return;
      sealer = new AuditSealer(rt.db, rt.logger.child({ component: 'audit-sealer' }));
      sealer.start();
    },
    async stop() {
      await sealer?.stop();
    },
  };
}
