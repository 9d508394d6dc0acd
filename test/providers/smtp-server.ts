import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server (smtp-server, RFC 5321) on 127.0.0.1 for the SMTP adapter's tests. Recipients
 * can be given a list of reply codes to answer at RCPT TO, one per attempt, so a test can make the
 * server say 451 once and then accept, or 550 for good. Messages it accepts are parsed with
 * mailparser for assertions on the MIME structure. Connections are counted, and each received
 * message keeps the id of the SMTP session it came over, so a test can see pooling.
 */
export interface LoopbackSmtp {
  port: number;
  received: { mail: ParsedMail; raw: string; envelopeTo: string[]; sessionId: string }[];
  /** TCP connections accepted so far (each is one SMTP session). */
  readonly connections: number;
  /** Connection errors of clients that went away mid-session (kept, not thrown). */
  clientErrors: Error[];
  /** Reply codes RCPT TO answers for this address, in order; then it accepts. */
  plan(address: string, codes: number[]): void;
  close(): Promise<void>;
}

export async function startLoopbackSmtp(opts: { user: string; pass: string }): Promise<LoopbackSmtp> {
  const received: LoopbackSmtp['received'] = [];
  const plans = new Map<string, number[]>();
  let connections = 0;
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, cb) {
      connections += 1;
      cb();
    },
    onAuth(auth, _session, cb) {
      if (auth.username === opts.user && auth.password === opts.pass)
        return cb(null, { user: auth.username });
      cb(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      const code = plans.get(address.address.toLowerCase())?.shift();
      if (code) return cb(Object.assign(new Error(`chosen reply ${code}`), { responseCode: code }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((mail) => {
            received.push({
              mail,
              raw,
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              sessionId: session.id,
            });
            cb();
          })
          .catch((err: Error) => cb(err));
      });
    },
  });
  // A client that vanishes mid-transaction (a dispatcher killed by the chaos suite) makes the
  // server emit 'error'; a real mail server logs it and goes on, and so does this one.
  const clientErrors: Error[] = [];
  server.on('error', (err: Error) => clientErrors.push(err));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    get connections() {
      return connections;
    },
    clientErrors,
    plan: (address, codes) => plans.set(address.toLowerCase(), [...codes]),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
