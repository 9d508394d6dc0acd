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
  const privateKeyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(stdout)?.[0];
  const certificatePem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(stdout)?.[0];
  if (!privateKeyPem || !certificatePem) throw new Error('self-signed-cert: unexpected openssl output');
  return { privateKeyPem, certificatePem };
}
