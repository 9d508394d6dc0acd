// A LAN device in a process of its own, as a screen on the restaurant's network is: the moment a
// notification arrives is read here, not when the hub's busy event loop gets round to reading a
// socket of its own. Run: node bin/run-ts.mjs test/lan/device-process.ts <ws-url> <token>
// Prints {"ready":true} once connected, then one line per notification: {"id","at"} where `at` is
// epoch milliseconds with sub-millisecond precision (performance.timeOrigin + performance.now()),
// comparable with the same figure taken in another process on this machine.
import { DeviceClient } from '../../src/lan/device-client.ts';
import type { NotificationMessage } from '../../src/lan/protocol.ts';

const [url, token] = process.argv.slice(2);
if (!url || !token) throw new Error('usage: device-process.ts <ws-url> <token>');
const client = new DeviceClient({ url, token });
client.on('notification', (n: NotificationMessage) => {
  process.stdout.write(`${JSON.stringify({ id: n.id, at: performance.timeOrigin + performance.now() })}\n`);
});
await client.connect();
process.stdout.write('{"ready":true}\n');
process.once('SIGTERM', () => {
  void client.close();
  setTimeout(() => process.exit(0), 50);
});
