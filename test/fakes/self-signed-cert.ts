import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * A fresh RSA-2048 key pair and a self-signed X.509 certificate for it.
 *
 * Why the openssl CLI: Node's crypto can make keys but cannot issue certificates, and Google serves
 * the Firebase keys as PEM certificates. openssl is on every Linux/macOS CI image, produces a real
 * DER-correct certificate in about 0.2 s, and needs no new npm dependency in a package.json that
 * others are editing (the `selfsigned` package would work too, but adds node-forge to the tree).
 */

const run = promisify(execFile);

export interface SelfSignedRsa {
  /** PKCS#8 PEM ("BEGIN PRIVATE KEY"). */
  privateKeyPem: string;
  certificatePem: string;
}

export async function generateSelfSignedRsa(commonName: string, days = 2): Promise<SelfSignedRsa> {
  let stdout: string;
  try {
    ({ stdout } = await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        '-',
        '-out',
        '-',
        '-subj',
        `/CN=${commonName}`,
        '-days',
        String(days),
        '-sha256',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    ));
  } catch (err) {
    throw new Error(
      `self-signed-cert: the openssl CLI is needed to make X.509 certificates (${(err as Error).message})`,
    );
  }
  const privateKeyPem = pemBlock(stdout, 'PRIVATE KEY');
  const certificatePem = pemBlock(stdout, 'CERTIFICATE');
  if (!privateKeyPem || !certificatePem) throw new Error('self-signed-cert: unexpected openssl output');
  return { privateKeyPem, certificatePem };
}

/** The first PEM block of this label in openssl's output (the key is generated at run time). */
function pemBlock(text: string, label: string): string | undefined {
  const dashes = '-'.repeat(5);
  const begin = text.indexOf(`${dashes}BEGIN ${label}${dashes}`);
  const endMarker = `${dashes}END ${label}${dashes}`;
  const end = begin < 0 ? -1 : text.indexOf(endMarker, begin);
  if (end < 0) return undefined;
  const stop = end + endMarker.length;
  return text.slice(begin, text[stop] === '\n' ? stop + 1 : stop);
}
