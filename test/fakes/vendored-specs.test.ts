import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SPECS_DIR } from './specs.ts';

// The vendored specs are the fakes' contract: each file must be the copy its README names.
describe('vendored provider specs', () => {
  const readme = readFileSync(`${SPECS_DIR}README.md`, 'utf8');
  const rows = [...readme.matchAll(/^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/gm)];

  it('lists every vendored file with a checksum', () => {
    expect(rows.map((r) => r[1]).sort()).toEqual([
      'meta-whatsapp/LICENSE',
      'meta-whatsapp/business-messaging-api_v23.0.yaml',
      'telegram/LICENSE',
      'telegram/api.json',
      'twilio/LICENSE',
      'twilio/twilio_verify_v2.json',
    ]);
  });

  it.each(rows.map((r) => [r[1], r[2]] as const))('%s matches its sha256', (file, sum) => {
    expect(
      createHash('sha256')
        .update(readFileSync(`${SPECS_DIR}${file}`))
        .digest('hex'),
    ).toBe(sum);
  });
});
