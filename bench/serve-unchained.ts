/**
 * Bench-only server: `mupza-comms serve` without the audit module (no hash-chain sealer), so
 * `bench/outbox-throughput.ts --server unchained` can price the chain against the real server.
 * Audit events are still written in the same transactions; only the sealing is missing.
 */
import { loadProcessConfig } from '../src/config/config.ts';
import { Runtime } from '../src/app/runtime.ts';
import { providersModule } from '../src/providers/module.ts';
import { lanModule } from '../src/lan/module.ts';
import { webhooksModule } from '../src/webhooks/module.ts';
import { otpModule } from '../src/otp/module.ts';

const cfg = loadProcessConfig();
const rt = new Runtime(cfg, {
  mode: 'serve',
  modules: [providersModule(), lanModule(), webhooksModule(), otpModule()],
});
await rt.init();
await rt.start({ port: cfg.env.PORT, host: cfg.env.HOST });
console.log(`API and owner panel on http://localhost:${cfg.env.PORT} (audit chain sealer off)`);
process.on('SIGTERM', () => void rt.stop().then(() => process.exit(0)));
