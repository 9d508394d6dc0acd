import { AUTH_CHANGED } from '../store/tokens.ts';
import { createHash, randomUUID } from 'node:crypto';
import type { Config } from '../config/config.ts';
import { CHANNELS, isChannel, type Channel } from '../core/channels.ts';
import { decodeCursor, encodeCursor, isUuid } from '../core/cursor.ts';
import { AppError } from '../core/errors.ts';
import { CANCELLABLE, RETRYABLE_BY_OWNER, isStatus } from '../core/status.ts';
import { normalizeTarget } from '../core/target.ts';
import { renderTemplate, toLocale } from '../core/templates.ts';
import { checkTemplateSend } from '../core/wa-templates.ts';
import { wabaIdOf } from '../providers/whatsapp-templates.ts';
import { findTemplate } from '../store/sql/wa-templates.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Redactor } from '../core/redact.ts';
import type { Db, Queryable } from '../store/driver.ts';
import {
  OUTBOX_COLUMNS,
  type AttemptRow,
  type AuditRow,
  type OutboxRow,
  type TenantRow,
} from '../store/rows.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { exactUtcText } from '../store/sql/cursor.ts';
import {
  insertOutboxRow,
  type HandOff,
  type InboxAtEnqueue,
  type NewOutboxRow,
} from '../store/sql/enqueue.ts';
import { EnqueueGroups } from './enqueue-groups.ts';
import { transitionRow } from '../store/sql/transition.ts';
import { gateFor, modeOf, statusOf } from './gate-inputs.ts';
import { BODY_LIMITS, type EnqueueInput } from './schemas.ts';

export interface EnqueueResult {
  row: OutboxRow;
  created: boolean;
}

export interface Actor {
  tenant: TenantRow;
  /** e.g. owner:demo-owner, device:pos-desktop-01, system:demo-seed */
  name: string;
}

function canonicalHash(input: EnqueueInput): string {
  const { idempotencyKey: _k, ...rest } = input;
  const sorted = JSON.stringify(rest, Object.keys(rest).sort());
  return createHash('sha256')
    .update(sorted + JSON.stringify(rest.data ?? null))
    .digest('hex');
}

export class OutboxService {
  private readonly groups: EnqueueGroups;

  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly registry: ProviderRegistry,
    private readonly redactor: Redactor,
  ) {
    this.groups = new EnqueueGroups(db);
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

  /** Validates and renders a message into a row draft; throws AppError with a stable code. */
  private prepare(input: EnqueueInput, tenant: TenantRow) {
    if (!isChannel(input.channel)) {
      throw new AppError(
        'unknown_channel',
        `Unknown channel "${String(input.channel).slice(0, 40)}". Use one of: ${CHANNELS.join(', ')}.`,
      );
    }
    const channel: Channel = input.channel;
    if (input.body !== undefined && input.template !== undefined) {
      // One text source per message: a body beside a template would silently win over it.
      throw new AppError('validation_failed', 'Give either "body" or "template", not both.', {
        details: { field: 'template' },
      });
    }
    const target = normalizeTarget(channel, input.target);
    const locale = toLocale(input.locale ?? tenant.locale);
    let { body, title, subject } = input;
    if (input.template && channel !== 'whatsapp') {
      const r = renderTemplate(input.template, input.data ?? {}, {
        locale,
        currency: tenant.currency,
        timeZone: tenant.timezone,
      });
      body = body ?? r.body;
      title = title ?? r.title;
      subject = subject ?? r.subject;
    }
    if (channel === 'whatsapp' && input.template && typeof input.data?.whatsappTemplate !== 'string') {
      // A WhatsApp template is Meta's pre-approved template: name it in data.whatsappTemplate.
      const r = renderTemplate(input.template, input.data ?? {}, {
        locale,
        currency: tenant.currency,
        timeZone: tenant.timezone,
      });
      body = body ?? r.body;
      title = title ?? r.title;
    }
    if (
      !body &&
      !(channel === 'whatsapp' && typeof input.data?.whatsappTemplate === 'string') &&
      channel !== 'otp_sms'
    ) {
      throw new AppError('validation_failed', 'Give either "body" or "template".', {
        details: { field: 'body' },
      });
    }
    const limit = BODY_LIMITS[channel];
    const length = (body?.length ?? 0) + (channel === 'telegram' && title ? title.length + 1 : 0);
    if (length > limit) {
      throw new AppError(
        'validation_failed',
        `The ${channel} text is ${length} characters; the limit is ${limit}.`,
        {
          details: { field: 'body', limit },
        },
      );
    }
    // A configured secret inside a message would be sent to a provider and stored: refuse it.
    const leaked = this.redactor.findSecretNames(
      JSON.stringify([input.target, body, title, subject, input.data ?? null]),
    );
    if (leaked.length) {
      throw new AppError(
        'secret_in_content',
        `The message contains the value of ${leaked.join(', ')}; it was not accepted.`,
      );
    }
    const sendAt = input.sendAt ? new Date(input.sendAt) : new Date();
    return {
      channel,
      target,
      locale,
      body: body ?? null,
      title: title ?? null,
      subject: subject ?? null,
      sendAt,
    };
  }

  /** The row a message becomes for this tenant (validated, rendered, gated); throws AppError. */
  private draft(input: EnqueueInput, actor: Actor, idempotencyKey?: string): NewOutboxRow {
    const tenant = actor.tenant;
    const p = this.prepare(input, tenant);
    const adapter = this.registry.forChannel(p.channel);
    const decision = gateFor(this.config, adapter, tenant.opt_ins, p.channel);
    const expiresAt =
      p.channel === 'otp_sms' ? new Date(p.sendAt.getTime() + this.config.env.OTP_TTL_S * 1000) : null;
    return {
      id: randomUUID(),
      tenantId: tenant.id,
      channel: p.channel,
      adapter: adapter.id,
      target: p.target,
      title: p.title,
      subject: p.subject,
      body: p.body,
      template: input.template ?? null,
      data: input.data ?? null,
      locale: p.locale,
      source: input.source,
      status: statusOf(decision),
      reason: decision.reason,
      mode: modeOf(decision, p.channel),
      idempotencyKey: idempotencyKey ?? input.idempotencyKey ?? null,
      requestHash: canonicalHash(input),
      sendAt: p.sendAt,
      expiresAt,
      maxAttempts: this.config.env.COMMS_MAX_ATTEMPTS,
      actor: actor.name,
    };
  }

  /** Enqueue within an existing transaction (used by the batch endpoint and by other modules). */
  async enqueueIn(
    q: Queryable,
    input: EnqueueInput,
    actor: Actor,
    idempotencyKey?: string,
  ): Promise<EnqueueResult> {
    const draft = this.draft(input, actor, idempotencyKey);
    await this.checkWhatsAppTemplate(q, input);
    const row = await insertOutboxRow(q, draft);
    if (row) return { row, created: true };
    return this.replay(q, actor.tenant.id, draft);
  }

  /**
   * With template sync on (WHATSAPP_BUSINESS_ACCOUNT_ID), a WhatsApp template send must name a
   * synced, APPROVED template in its language with as many body parameters as it has: Meta would
   * refuse it anyway (132001, 132000), after the row had waited its turn.
   */
  private async checkWhatsAppTemplate(q: Queryable, input: EnqueueInput): Promise<void> {
    const waba = wabaIdOf(this.config);
    const name = input.data?.whatsappTemplate;
    if (!waba || input.channel !== 'whatsapp' || typeof name !== 'string') return;
    const language = typeof input.data?.language === 'string' ? input.data.language : 'az';
    const params = Array.isArray(input.data?.params) ? input.data.params.length : 0;
    const found = await findTemplate(q, waba, name, language);
    const refusal = checkTemplateSend(found, name, language, params);
    if (refusal) throw new AppError(refusal.code, refusal.message, { details: { field: 'data' } });
  }

  /** The idempotency key was used before: the same message gets the stored row back. */
  private async replay(q: Queryable, tenantId: string, draft: NewOutboxRow): Promise<EnqueueResult> {
    const existing = await q.query<OutboxRow>(
      `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE tenant_id = $1 AND idempotency_key = $2`,
      [tenantId, draft.idempotencyKey],
    );
    const found = existing.rows[0];
    if (!found)
      throw new AppError('conflict', 'The idempotency key is being used by a request that has not finished.');
    if (found.request_hash !== draft.requestHash) {
      throw new AppError(
        'idempotency_conflict',
        'This idempotency key was already used with a different message.',
      );
    }
    return { row: found, created: false };
  }

  /**
   * One message: one statement, one round trip (the row and its audit event commit together);
   * messages of a tenant that arrive while its earlier ones are being stored share a commit.
   */
  async enqueue(input: EnqueueInput, actor: Actor, idempotencyKey?: string): Promise<EnqueueResult> {
    const draft = this.draft(input, actor, idempotencyKey);
    await this.checkWhatsAppTemplate(this.db, input);
    const row = await this.groups.submit(draft);
    if (row) return { row, created: true };
    return this.db.tx((q) => this.replay(q, actor.tenant.id, draft), {
      tenantId: actor.tenant.id,
      readOnly: true,
    });
  }

  /** All-or-nothing: every message is validated first, then all are written in one transaction. */
  async enqueueBatch(inputs: EnqueueInput[], actor: Actor): Promise<EnqueueResult[]> {
    inputs.forEach((m, i) => {
      try {
        this.prepare(m, actor.tenant);
      } catch (err) {
        if (err instanceof AppError) {
          throw new AppError(err.code, `messages[${i}]: ${err.message}`, { details: { index: i } });
        }
        throw err;
      }
    });
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
    const r = await this.db.tx(
      (q) =>
        q.query<OutboxRow>(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE tenant_id = $1 AND id = $2`, [
          tenantId,
          id,
        ]),
      { tenantId, readOnly: true },
    );
    return r.rows[0] ?? null;
  }

  async attempts(tenantId: string, id: string): Promise<AttemptRow[]> {
    const r = await this.db.tx(
      (q) =>
        q.query<AttemptRow>(
          `SELECT id, outbox_id, attempt, adapter, mode, outcome, error_code, error_message, provider_message_id, request,
                  response, worker, started_at, finished_at, duration_ms
           FROM outbox_attempts WHERE tenant_id = $1 AND outbox_id = $2 ORDER BY id`,
          [tenantId, id],
        ),
      { tenantId, readOnly: true },
    );
    return r.rows;
  }

  async audit(tenantId: string, id: string): Promise<AuditRow[]> {
    const r = await this.db.tx(
      (q) =>
        q.query<AuditRow>(
          `SELECT id, tenant_id, entity, entity_id, actor, action, from_status, to_status, reason, detail, created_at
           FROM audit_events WHERE tenant_id = $1 AND entity = 'outbox' AND entity_id = $2 ORDER BY id`,
          [tenantId, id],
        ),
      { tenantId, readOnly: true },
    );
    return r.rows;
  }

  async list(
    tenantId: string,
    f: { status?: string; channel?: string; source?: string; limit: number; cursor?: string },
  ): Promise<{ items: OutboxRow[]; nextCursor: string | null }> {
    if (f.status !== undefined && !isStatus(f.status)) {
      throw new AppError('validation_failed', `Unknown status filter "${f.status.slice(0, 20)}".`);
    }
    if (f.channel !== undefined && !isChannel(f.channel)) {
      throw new AppError('unknown_channel', `Unknown channel filter "${f.channel.slice(0, 20)}".`);
    }
    const after = f.cursor === undefined ? null : decodeCursor(f.cursor);
    if (f.cursor !== undefined && !after) {
      throw new AppError(
        'validation_failed',
        'The cursor is not valid; use nextCursor from a previous page.',
        { details: { field: 'cursor' } },
      );
    }
    const r = await this.db.tx(
      (q) =>
        q.query<OutboxRow & { cursor_at: string }>(
          `SELECT ${OUTBOX_COLUMNS}, ${exactUtcText('created_at')} AS cursor_at FROM outbox
       WHERE tenant_id = $1
         AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR channel = $3) AND ($4::text IS NULL OR source = $4)
         AND ($5::timestamptz IS NULL OR (created_at, id) < ($5::timestamptz, $6::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $7`,
          [
            tenantId,
            f.status ?? null,
            f.channel ?? null,
            f.source ?? null,
            after?.at ?? null,
            after?.id ?? null,
            f.limit + 1,
          ],
        ),
      { tenantId, readOnly: true },
    );
    const page = r.rows.slice(0, f.limit);
    const last = page[page.length - 1];
    const nextCursor =
      r.rows.length > f.limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null;
    return { items: page.map(({ cursor_at: _c, ...row }) => row), nextCursor };
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
    const r = await this.db.query<{ id: string; channel: Channel; adapter: OutboxRow['adapter'] }>(
      `SELECT id, channel, adapter FROM outbox WHERE tenant_id = $1 AND status = 'queued' AND ($2::text IS NULL OR channel = $2)
       ORDER BY created_at LIMIT 10000`,
      [tenant.id, channel ?? null],
    );
    let moved = 0;
    for (const row of r.rows) {
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
    const updated = await this.db.tx(
      async (q) => {
        const cur = await q.query<TenantRow>('SELECT * FROM tenants WHERE id = $1 FOR UPDATE', [tenant.id]);
        const before = cur.rows[0];
        if (!before) throw new AppError('not_found', 'No such tenant.');
        const next = { ...before.opt_ins, ...optIns };
        const res = await q.query<TenantRow>(
          'UPDATE tenants SET opt_ins = $2::jsonb, updated_at = now() WHERE id = $1 RETURNING *',
          [tenant.id, JSON.stringify(next)],
        );
        q.publish(AUTH_CHANGED, 'tenants');
        const changes = Object.entries(optIns).filter(
          ([ch, v]) => (before.opt_ins as Record<string, boolean>)[ch] !== v,
        );
        await appendAudit(
          q,
          changes.map(([ch, v]) => ({
            tenantId: tenant.id,
            entity: 'policy' as const,
            entityId: ch,
            actor,
            action: v ? 'opt_in' : 'opt_out',
            from: String((before.opt_ins as Record<string, boolean>)[ch] ?? false),
            to: String(v),
            reason: `${ch} ${v ? 'enabled' : 'disabled'} by ${actor}`,
          })),
        );
        return res.rows[0]!;
      },
      { tenantId: tenant.id },
    );
    const moved = await this.reevaluateQueued(updated, actor);
    return { tenant: updated, moved };
  }
}
