import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GRAPH_API_VERSIONS,
  graphVersionWarning,
  oldestServedVersion,
} from '../../src/core/graph-api-versions.ts';
import { drivers } from '../helpers/db.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';

describe('Graph API versions Meta still serves (dated table)', () => {
  it('the oldest served version moves on as expiry dates pass', () => {
    expect(oldestServedVersion(new Date('2026-05-20T12:00:00Z'))).toBe('v19.0');
    expect(oldestServedVersion(new Date('2026-05-21T00:00:00Z'))).toBe('v20.0');
    expect(oldestServedVersion(new Date('2026-12-07T00:00:00Z'))).toBe('v21.0');
    expect(oldestServedVersion(new Date('2027-10-08T00:00:00Z'))).toBe('v24.0');
  });

  it('warns for a version older than the oldest served, never for a served or newer one', () => {
    const dec2026 = new Date('2026-12-07T00:00:00Z');
    const w = graphVersionWarning('v20.0', dec2026);
    expect(w).toMatch(
      /WHATSAPP_API_VERSION is older than the oldest Graph API version Meta still serves \(v21\.0\)/,
    );
    expect(w).toContain('served until 2026-09-24');
    expect(w).not.toContain('v20.0');
    expect(graphVersionWarning('v2.3', dec2026)).toMatch(/\(v21\.0\)/);
    for (const ok of ['v21.0', 'v23.0', 'v26.0', 'v30.0', undefined])
      expect(graphVersionWarning(ok, dec2026)).toBeNull();
    // v23.0, the version the adapter is tested with, is retired on 2027-10-08.
    expect(graphVersionWarning('v23.0', new Date('2027-10-08T00:00:00Z'))).toMatch(/\(v24\.0\)/);
  });

  it('every row is well formed: released before it expires, versions in order', () => {
    let prev = '';
    for (const [v, [released, until]] of GRAPH_API_VERSIONS) {
      expect(v).toMatch(/^v\d+\.0$/);
      expect(released > prev).toBe(true);
      if (until) expect(until > released).toBe(true);
      prev = released;
    }
  });
});

for (const kind of await drivers()) {
  describe(`readiness warns about a retired WHATSAPP_API_VERSION [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      // v16.0 stopped being served on 2025-05-14, so this holds on any later clock.
      app = await createTestApp(kind, { env: { WHATSAPP_API_VERSION: 'v16.0' } });
    }, 180_000);
    afterAll(() => app.close());

    it('names the variable and the oldest served version, not the configured value', async () => {
      const r = (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })).json() as {
        warnings: { code: string; message: string }[];
      };
      const w = r.warnings.find((x) => x.code === 'whatsapp_api_version_retired');
      expect(w?.message).toMatch(
        /^WHATSAPP_API_VERSION is older than the oldest Graph API version Meta still serves \(v\d+\.0\)/,
      );
      expect(w?.message).toContain('served until 2025-05-14');
      expect(JSON.stringify(r.warnings)).not.toContain('v16.0');
    });
  });
}
