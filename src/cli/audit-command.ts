import { sealTenant, verifyTenant } from '../audit/chain.ts';
import { tenantIds } from '../store/sql/audit-chain.ts';
import { flag, type CliCommand } from './command.ts';
import { callService, reach, readThroughService } from './service-link.ts';

function auditLine(tenant: string, r: Awaited<ReturnType<typeof verifyTenant>>): string {
  return r.ok
    ? `${tenant}: ok, ${r.checked} events chained`
    : `${tenant}: BROKEN at seal ${r.firstBroken!.seq} (audit event ${r.firstBroken!.auditId}): ${r.firstBroken!.reason}`;
}

export const auditCommand: CliCommand = async (args, config) => {
  if (args[0] !== 'verify') {
    console.error(
      'usage: mupza-comms audit verify [--tenant ID] [--token OWNER_TOKEN --url URL while the service runs]',
    );
    return 2;
  }
  const cfg = config();
  const target = await reach(args, cfg, 'audit verify');
  if (target.kind === 'service') {
    const token = readThroughService(args, cfg, target, 'audit verify');
    if (!token) return 2;
    const me = (await callService(cfg, target.url, 'GET', '/api/v1/me', token)) as {
      tenant: { id: string };
    };
    const r = (await callService(cfg, target.url, 'GET', '/api/v1/audit/verify', token)) as Awaited<
      ReturnType<typeof verifyTenant>
    >;
    console.log(auditLine(me.tenant.id, r));
    return r.ok ? 0 : 1;
  }
  const db = target.db;
  try {
    const only = flag(args, 'tenant');
    const tenants = only ? [only] : await tenantIds(db);
    let ok = true;
    for (const t of tenants) {
      while ((await sealTenant(db, t)) > 0);
      const r = await verifyTenant(db, t);
      ok &&= r.ok;
      console.log(auditLine(t, r));
    }
    return ok ? 0 : 1;
  } finally {
    await db.close();
  }
};
