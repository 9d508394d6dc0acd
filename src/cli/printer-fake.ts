import { FakeEscPosPrinter, type PrintedTicket } from '../printers/fake-printer.ts';

/**
 * `mupza-comms printer fake --port 9100 [--host 127.0.0.1] [--columns 48]`: a test ESC/POS network
 * printer for trying the hub without hardware; each ticket it prints goes to stdout as text.
 */
export async function printerCommand(args: string[]): Promise<number> {
  const get = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const port = get('port') ?? '9100';
  const host = get('host') ?? '127.0.0.1';
  const columns = get('columns') ?? '48';
  if (args[0] !== 'fake' || !/^\d{1,5}$/.test(port) || Number(port) > 65535 || !/^\d{2,3}$/.test(columns)) {
    console.error('usage: mupza-comms printer fake [--port 9100] [--host 127.0.0.1] [--columns 48]');
    return 2;
  }
  const printer = new FakeEscPosPrinter({ port: Number(port), host });
  const width = Number(columns);
  printer.on('ticket', (t: PrintedTicket) => {
    const rule = '-'.repeat(width);
    console.log(rule);
    for (const i of t.items) {
      if (i.kind === 'text') console.log(i.width > 1 ? i.text.toUpperCase() : i.text);
      else if (i.kind === 'raster')
        console.log(i.text === null ? `[raster ${i.width}x${i.height}]` : `${i.text}  [raster]`);
    }
    console.log(`${rule} cut`);
  });
  await printer.start();
  console.error(`Fake ESC/POS printer on tcp://${host}:${printer.port} (Ctrl-C to stop)`);
  return new Promise<number>((resolve) => {
    const stop = () => void printer.stop().then(() => resolve(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
