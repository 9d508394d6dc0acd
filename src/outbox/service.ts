import type { Config } from '../config/config.ts';
import type { Channel } from '../core/channels.ts';
import { isUuid } from '../core/cursor.ts';
import { AppError } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import { CANCELLABLE, RETRYABLE_BY_OWNER } from '../core/status.ts';
import type { ProviderRegistry } from '../core/adapter.ts';
import type { Db, Queryable } from '../store/driver.ts';
import type { AttemptRow, AuditRow, OutboxRow, TenantRow } from '../store/rows.ts';
import { insertOutboxRow, type HandOff, type InboxAtEnqueue } from '../store/sql/enqueue.ts';
import { outboxAttempts, outboxAuditEvents, outboxById, queuedRows } from '../store/sql/outbox-read.ts';
import { transitionRow } from '../store/sql/transition.ts';
import { validateBatch } from './batch.ts';
import { EnqueueGroups } from './enqueue-groups.ts';
import { gateFor, modeOf, statusOf } from './gate-inputs.ts';
import { listOutbox, type ListFilter } from './listing.ts';
import { updateOptIns } from './policy.ts';
import { checkWhatsAppTemplate, draftRow, type DraftDeps } from './prepare.ts';
import { replayIdempotent } from './replay.ts';
import type { EnqueueInput } from './schemas.ts';
import type { Actor, EnqueueResult } from './types.ts';

export type { Actor, EnqueueResult };

export class OutboxService {
  private readonly groups: EnqueueGroups;
  private readonly deps: DraftDeps;

  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly registry: ProviderRegistry,
    private readonly redactor: Redactor,
  ) {
    this.groups = new EnqueueGroups(db);
    this.deps = { config, registry, redactor };
  }

  /**
   * Rows stored by `enqueue` that are due now are offered to `handOff` right after their commit; a
   * lane of this process that takes one spares the NOTIFY round trip and the claim scan.
   */
  setHandOff(handOff: HandOff | null): void {
    this.groups.handOff = handOff;
  }

  /** With the LAN hub in this process, in_app rows stored by `enqueue` get their inbox entries then. */
  setInboxAtEnqueue(inbox: InboxAtEnqueue | null): void {
    this.groups.inbox = inbox;
  }

  /** Enqueue within an existing transaction (used by the batch endpoint and by other modules). */
  async enqueueIn(
    q: Queryable,
    input: EnqueueInput,
    actor: Actor,
    idempotencyKey?: string,
  ): Promise<EnqueueResult> {
    const draft = draftRow(this.deps, input, actor, idempotencyKey);
    await checkWhatsAppTemplate(q, this.config, input);
    const row = await insertOutboxRow(q, draft);
    if (row) return { row, created: true };
    return replayIdempotent(q, actor.tenant.id, draft);
  }

  /**
   * One message: one statement, one round trip (the row and its audit event commit together);
   * messages of a tenant that arrive while its earlier ones are being stored share a commit.
   */
  async enqueue(input: EnqueueInput, actor: Actor, idempotencyKey?: string): Promise<EnqueueResult> {
    const draft = draftRow(this.deps, input, actor, idempotencyKey);
    await checkWhatsAppTemplate(this.db, this.config, input);
    const row = await this.groups.submit(draft);
    if (row) return { row, created: true };
    return this.db.tx((q) => replayIdempotent(q, actor.tenant.id, draft), {
      tenantId: actor.tenant.id,
      readOnly: true,
    });
  }

  /** All-or-nothing: every message is validated first, then all are written in one transaction. */
  async enqueueBatch(inputs: EnqueueInput[], actor: Actor): Promise<EnqueueResult[]> {
    validateBatch(inputs, actor.tenant, this.redactor);
    return this.db.tx(
      async (q) => {
        const out: EnqueueResult[] = [];
        for (const m of inputs) out.push(await this.enqueueIn(q, m, actor));
        return out;
      },
      { tenantId: actor.tenant.id },
    );
  }

  async get(tenantId: string, id: string): Promise<OutboxRow | null> {
    if (!isUuid(id)) return null;
    return this.db.tx((q) => outboxById(q, tenantId, id), { tenantId, readOnly: true });
  }

  async attempts(tenantId: string, id: string): Promise<AttemptRow[]> {
    return this.db.tx((q) => outboxAttempts(q, tenantId, id), { tenantId, readOnly: true });
  }

  async audit(tenantId: string, id: string): Promise<AuditRow[]> {
    return this.db.tx((q) => outboxAuditEvents(q, tenantId, id), { tenantId, readOnly: true });
  }

  list(tenantId: string, f: ListFilter): Promise<{ items: OutboxRow[]; nextCursor: string | null }> {
    return listOutbox(this.db, tenantId, f);
  }

  /** Owner retry: re-run the gate now; a dead or failed row gets a fresh attempt budget. */
  async retry(tenant: TenantRow, id: string, actor: string): Promise<OutboxRow> {
    const row = await this.get(tenant.id, id);
    if (!row) throw new AppError('not_found', 'No such outbox item.');
    if (!RETRYABLE_BY_OWNER.includes(row.status)) {
      throw new AppError('invalid_transition', `An item that is ${row.status} cannot be retried.`);
    }
    const adapter = this.registry.get(row.adapter);
    const decision = gateFor(this.config, adapter, tenant.opt_ins, row.channel);
    const to = statusOf(decision);
    if (to === row.status && to !== 'queued') {
      throw new AppError('invalid_transition', `The item stays ${to}: ${decision.reason}.`);
    }
    const moved = await this.db.tx(
      (q) =>
        transitionRow(q, {
          tenantId: tenant.id,
          id,
          from: row.status,
          to,
          actor,
          action: 'retry',
          reason: decision.reason,
          set: {
            nextAttemptAt: to === 'ready' ? new Date() : null,
            mode: modeOf(decision, row.channel),
            maxAttempts: row.attempts + this.config.env.COMMS_MAX_ATTEMPTS,
            lastErrorCode: null,
          },
        }),
      { tenantId: tenant.id },
    );
    if (!moved) throw new AppError('conflict', 'The item changed while retrying; reload and try again.');
    return moved;
  }

  async cancel(tenantId: string, id: string, actor: string): Promise<OutboxRow> {
    const row = await this.get(tenantId, id);
    if (!row) throw new AppError('not_found', 'No such outbox item.');
    if (!CANCELLABLE.includes(row.status)) {
      throw new AppError('invalid_transition', `An item that is ${row.status} cannot be cancelled.`);
    }
    const moved = await this.db.tx(
      (q) =>
        transitionRow(q, {
          tenantId,
          id,
          from: row.status,
          to: 'cancelled',
          actor,
          action: 'cancel',
          reason: `cancelled by ${actor}`,
          set: { nextAttemptAt: null },
        }),
      { tenantId },
    );
    if (!moved) throw new AppError('conflict', 'The item changed while cancelling; reload and try again.');
    return moved;
  }

  /**
   * Re-runs the gate for a tenant's waiting rows (after an opt-in change or a restart with new env):
   * queued rows whose conditions now hold become ready. Audited like every transition.
   */
  async reevaluateQueued(tenant: TenantRow, actor: string, channel?: Channel): Promise<number> {
    const rows = await queuedRows(this.db, tenant.id, channel ?? null);
    let moved = 0;
    for (const row of rows) {
      const decision = gateFor(this.config, this.registry.get(row.adapter), tenant.opt_ins, row.channel);
      const to = statusOf(decision);
      if (to === 'queued') continue;
      const done = await transitionRow(this.db, {
        tenantId: tenant.id,
        id: row.id,
        from: 'queued',
        to,
        actor,
        action: 'reevaluate',
        reason: decision.reason,
        set: { nextAttemptAt: to === 'ready' ? new Date() : null, mode: modeOf(decision, row.channel) },
      });
      if (done) moved++;
    }
    return moved;
  }

  async updatePolicy(
    tenant: TenantRow,
    optIns: Partial<Record<Channel, boolean>>,
    actor: string,
  ): Promise<{ tenant: TenantRow; moved: number }> {
    const updated = await updateOptIns(this.db, tenant, optIns, actor);
    const moved = await this.reevaluateQueued(updated, actor);
    return { tenant: updated, moved };
  }
}
