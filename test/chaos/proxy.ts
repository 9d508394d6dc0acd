import { createServer, Socket, type Server } from 'node:net';

/**
 * A TCP proxy in front of a fake provider that a test can cut and restore on the same port, like
 * the internet link of a restaurant going away: while cut, connections are refused and open ones
 * are reset, so the adapters see the provider as unreachable rather than slow. It can also add a
 * network delay, as the real link to a provider has.
 */
export class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  /** One-way delay added to every chunk, each direction (a provider's network round trip is 2x this). */
  latencyMs = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<this> {
    if (this.server) return this;
    const server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      const relay = (from: Socket, to: Socket) =>
        from.on('data', (chunk: Buffer) => {
          // Same delay for every chunk keeps their order.
          if (this.latencyMs > 0) setTimeout(() => to.write(chunk), this.latencyMs);
          else to.write(chunk);
        });
      relay(client, upstream);
      relay(upstream, client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
