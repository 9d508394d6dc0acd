import { readFile } from 'node:fs/promises';
import { DeviceClient } from '../device-sdk/index.ts';
import { WS_PATH } from '../lan/protocol.ts';
import { deviceAdmin } from './admin-commands.ts';
import { flag, type CliCommand } from './command.ts';
import { defaultServiceUrl } from './service-link.ts';

// Reference LAN device: notifications as JSON lines on stdout (status on stderr), each acked.
export const deviceCommand: CliCommand = async (args, config) => {
  if (args[0] === 'add' || args[0] === 'token') return deviceAdmin(args, config);
  const url =
    flag(args, 'url') ??
    (args[0] === 'connect' ? `${defaultServiceUrl(config(), 'ws')}${WS_PATH}` : undefined);
  const tokenFile = flag(args, 'token-file');
  const token = flag(args, 'token') ?? (tokenFile ? (await readFile(tokenFile, 'utf8')).trim() : undefined);
  if (args[0] !== 'connect' || !url || !token) {
    console.error(
      'usage: mupza-comms device connect [--url ws://HOST:PORT/api/v1/lan/ws] (--token TOKEN | --token-file PATH) [--after SEQ] [--count N] [--no-ack] [--auth-message]',
    );
    console.error(
      '       mupza-comms device add --tenant ID --id DEVICE --role pos|waiter|kitchen|printer --name NAME [--url URL]',
    );
    console.error('       mupza-comms device token --tenant ID --id DEVICE [--url URL]');
    return 2;
  }
  const after = flag(args, 'after');
  const count = flag(args, 'count');
  if ((after !== undefined && !/^\d+$/.test(after)) || (count !== undefined && !/^[1-9]\d*$/.test(count))) {
    console.error('--after and --count take whole numbers');
    return 2;
  }
  // The device SDK (mupzaos-comms/device), as integrators use it. It always authenticates with
  // its first message; --auth-message is accepted for older scripts.
  const client = new DeviceClient({
    url,
    token,
    after: after === undefined ? undefined : Number(after),
    autoAck: !args.includes('--no-ack'),
  });
  return new Promise<number>((resolve) => {
    let received = 0;
    let finished = false;
    let namedUrl = false;
    const done = (code: number) => {
      if (finished) return;
      finished = true;
      client.close();
      // Let the final ack and the close frame leave before the process may exit.
      setTimeout(() => resolve(code), 50);
    };
    client.on('hello', (h) => console.error(JSON.stringify({ type: 'hello', ...h })));
    client.on('protocolError', (e) => console.error(JSON.stringify({ type: 'error', ...e })));
    client.on('internet', (state) => console.error(JSON.stringify({ type: 'status', internet: state })));
    client.on('connection', (c) => {
      if (c.state !== 'closed' || c.cause === 'stopped') return;
      console.error(
        JSON.stringify({
          type: 'closed',
          code: c.code ?? null,
          cause: c.cause,
          retryInMs: c.retryInMs ?? null,
        }),
      );
      if (c.retryInMs === undefined) done(1);
      else if (!namedUrl && c.cause === 'hub_unreachable') {
        // A hub may be restarting: the client keeps retrying; say once where it is trying.
        namedUrl = true;
        console.error(`Could not reach ${url}; retrying.`);
      }
    });
    client.on('notification', (n) => {
      console.log(JSON.stringify({ type: 'notification', ...n }));
      // Close after the ack of this burst went out (acks are sent after the listeners ran).
      if (count !== undefined && ++received >= Number(count)) setImmediate(() => done(0));
    });
    process.once('SIGINT', () => done(0));
    process.once('SIGTERM', () => done(0));
    // Rejects only on a final refusal (bad token, revoked), already reported by its close.
    client.connect().catch((err: Error) => console.error(`${url}: ${err.message}`));
  });
};
