/**
 * A timestamptz column as exact UTC text (microseconds), for page cursors: a JavaScript Date keeps
 * only milliseconds.
 */
export function exactUtcText(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
