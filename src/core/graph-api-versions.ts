/**
 * Graph API versions and the day Meta stops serving each one. Source: Meta, "Graph API changelog —
 * Versions" (https://developers.facebook.com/docs/graph-api/changelog/versions/), read 2026-12-07.
 * Versions without a date were "TBD" then. Update this table when Meta publishes new dates.
 */
export const GRAPH_API_VERSIONS_READ_ON = '2026-12-07';

/** version → [released, available until (exclusive: gone from that day) or null when not announced]. */
export const GRAPH_API_VERSIONS: ReadonlyMap<string, readonly [string, string | null]> = new Map([
  ['v16.0', ['2023-02-02', '2025-05-14']],
  ['v17.0', ['2023-05-23', '2025-09-12']],
  ['v18.0', ['2023-09-12', '2026-01-26']],
  ['v19.0', ['2024-01-23', '2026-05-21']],
  ['v20.0', ['2024-05-21', '2026-09-24']],
  ['v21.0', ['2024-10-02', '2027-01-21']],
  ['v22.0', ['2025-01-21', '2027-05-20']],
  ['v23.0', ['2025-05-29', '2027-10-08']],
  ['v24.0', ['2025-10-08', '2028-02-18']],
  ['v25.0', ['2026-02-18', '2028-07-29']],
  ['v26.0', ['2026-07-29', null]],
]);

/** Versions the WhatsApp adapter is tested with (the vendored v23.0 spec and its fake). */
export const GRAPH_API_VERSIONS_TESTED = ['v23.0'] as const;

const num = (v: string): number | null => {
  const m = /^v(\d+)\.(\d+)$/.exec(v);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : null;
};

/** The oldest version Meta still serves on `now`, from the table. */
export function oldestServedVersion(now: Date): string | null {
  const day = now.toISOString().slice(0, 10);
  let oldest: string | null = null;
  for (const [v, [, until]] of GRAPH_API_VERSIONS) {
    if (until !== null && until <= day) continue;
    if (oldest === null || num(v)! < num(oldest)!) oldest = v;
  }
  return oldest;
}

/**
 * A warning when `version` is older than the oldest version Meta still serves on `now` (calls to
 * it fail or are silently upgraded), else null. The message names the variable, not its value.
 */
export function graphVersionWarning(version: string | undefined, now: Date): string | null {
  if (!version) return null;
  const n = num(version);
  const oldest = oldestServedVersion(now);
  if (n === null || oldest === null || n >= num(oldest)!) return null;
  const until = GRAPH_API_VERSIONS.get(version)?.[1];
  return `WHATSAPP_API_VERSION is older than the oldest Graph API version Meta still serves (${oldest})${
    until ? `; it was served until ${until}` : ''
  } (Meta's version table, read ${GRAPH_API_VERSIONS_READ_ON}). The adapter is tested with ${GRAPH_API_VERSIONS_TESTED.join(', ')}.`;
}
