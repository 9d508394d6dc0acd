import { deriveInternet, type InternetState } from '../core/internet.ts';
import { PrincipalCache } from '../http/principal-cache.ts';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type pino from 'pino';
import type { Config } from '../config/config.ts';
import { createRedactor, type Redactor } from '../core/redact.ts';
import { Dispatcher } from '../dispatch/dispatcher.ts';
import { buildHttpApp, type RouteModule } from '../http/app.ts';
import type { HttpContext } from '../http/context.ts';
import { OutboxService } from '../outbox/service.ts';
import type { LanDelivery } from '../providers/lan-hub.ts';
import { createRegistry, type ProviderRegistry } from '../providers/registry.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { AdapterId } from '../core/channels.ts';
import type { Db } from '../store/driver.ts';
import { migrate } from '../store/migrate.ts';
import { openStore } from '../store/open.ts';
import { ensureDemoTenant, type SeedResult } from './demo-seed.ts';
import { EventBus } from '../kernel/event-bus.ts';
import { createLogger } from './logger.ts';
import { Metrics } from '../kernel/metrics.ts';
import { tenantsWithQueued } from '../store/sql/startup.ts';
import { systemRoutes } from '../readiness/routes.ts';
import { tenantAdminRoutes } from '../admin/tenant-routes.ts';
import type { RuntimeMode, ServiceModule } from '../kernel/module.ts';

export type { RuntimeMode };

/** A feature as the composition root runs it: started with this Runtime, routed with its HTTP context. */
export type RuntimeModule = ServiceModule<Runtime, HttpContext>;

export interface RuntimeOptions {
  mode?: RuntimeMode;
  /** Use this database instead of opening one from config (tests). */
  db?: Db;
  logDestination?: pino.DestinationStream;
  adapterOverrides?: Partial<Record<AdapterId, ProviderAdapter>>;
  modules?: RuntimeModule[];
  seedDemo?: boolean;
  /** Set the LAN hub (the LAN module does this on start). */
  lanHub?: LanDelivery | null;
}

/** The composition root: config, store, providers, loops and HTTP wired in one place. */
export class Runtime {
  readonly redactor: Redactor;
  readonly logger: Logger;
  readonly metrics = new Metrics();
  db!: Db;
  registry!: ProviderRegistry;
  outbox!: OutboxService;
  events!: EventBus;
  principals!: PrincipalCache;
  dispatcher: Dispatcher | null = null;
  http: FastifyInstance | null = null;
  seed: SeedResult | null = null;
  lanHub: LanDelivery | null = null;
  readonly state = {
    lanLaneSeparate: true,
    verifications: new Map<string, { at: string; ok: boolean; detail: string }>(),
    internet: (): InternetState => deriveInternet(this.dispatcher?.onlineHealth() ?? [], Date.now()),
  };
  private readonly modules: RuntimeModule[];

  constructor(
    readonly config: Config,
    private readonly opts: RuntimeOptions = {},
  ) {
    this.redactor = createRedactor(config.secrets, config.identifiers);
    this.logger = createLogger({
      level: config.env.LOG_LEVEL,
      redactor: this.redactor,
      destination: opts.logDestination,
    });
    this.modules = opts.modules ?? [];
    this.lanHub = opts.lanHub ?? null;
  }

  get mode(): RuntimeMode {
    return this.opts.mode ?? 'serve';
  }

  async init(): Promise<this> {
    const { config } = this;
    this.db =
      this.opts.db ??
      (await openStore({
        databaseUrl: config.env.DATABASE_URL,
        dataDir: config.env.DATA_DIR,
        poolSize: config.env.DATABASE_POOL_SIZE,
        holder: this.mode,
        pgliteSettings: {
          shared_buffers: config.env.PGLITE_SHARED_BUFFERS,
          work_mem: config.env.PGLITE_WORK_MEM,
        },
      }));
    await migrate(this.db);
    this.registry = createRegistry(
      { config, redactor: this.redactor },
      { lanHub: () => this.lanHub, overrides: this.opts.adapterOverrides },
    );
    this.outbox = new OutboxService(this.db, config, this.registry, this.redactor);
    this.events = new EventBus(this.db);
    this.principals = new PrincipalCache(this.db);
    if (this.opts.seedDemo ?? true) this.seed = await ensureDemoTenant(this.db, config, this.outbox);
    await this.reevaluateAll();
    if (this.mode !== 'api') {
      this.dispatcher = new Dispatcher({
        db: this.db,
        config,
        registry: this.registry,
        redactor: this.redactor,
        metrics: this.metrics,
        logger: this.logger.child({ component: 'dispatcher' }),
      });
    }
    if (this.mode !== 'dispatch') {
      const ctx: HttpContext = {
        db: this.db,
        config,
        redactor: this.redactor,
        metrics: this.metrics,
        logger: this.logger,
        registry: this.registry,
        outbox: this.outbox,
        events: this.events,
        principals: this.principals,
        state: this.state,
      };
      this.http = await buildHttpApp(
        ctx,
        // Routes every process serves (health, readiness, metrics, creating a tenant), then each feature's.
        [
          systemRoutes,
          tenantAdminRoutes,
          ...this.modules.flatMap((m): RouteModule[] => {
            const routes = m.routes?.bind(m);
            return routes ? [routes] : [];
          }),
        ],
      );
    }
    return this;
  }

  /** Queued rows whose conditions hold under the current config move on (e.g. after new env). */
  private async reevaluateAll(): Promise<void> {
    for (const t of await tenantsWithQueued(this.db)) await this.outbox.reevaluateQueued(t, 'system:startup');
  }

  async start(listen?: { port: number; host: string }): Promise<string | null> {
    await this.events.start();
    await this.principals.start();
    for (const m of this.modules) await m.start?.(this);
    await this.dispatcher?.start();
    // An in_app row stored here goes straight to this process's LAN lane when the hub runs here too.
    const lanLane = this.dispatcher?.lanes.get('lan_hub');
    if (lanLane) this.outbox.setHandOff((row) => this.lanHub !== null && lanLane.adopt(row));
    if (this.http && listen) return this.http.listen(listen);
    if (this.http) await this.http.ready();
    return null;
  }

  /** Graceful stop: HTTP first (no new work), then loops finish or release what they hold. */
  async stop(): Promise<void> {
    await this.http?.close();
    this.outbox?.setHandOff(null);
    await this.dispatcher?.stop();
    for (const m of [...this.modules].reverse()) await m.stop?.();
    await this.events?.stop();
    await this.principals?.stop();
    await this.registry?.close();
    if (!this.opts.db) await this.db?.close();
  }
}
