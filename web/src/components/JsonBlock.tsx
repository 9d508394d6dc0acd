/** Pretty-printed JSON as the server returned it (secrets already shown as [REDACTED] there). */
export function JsonBlock(props: { value: unknown; label: string; testId?: string }) {
  return (
    <figure className="json">
      <figcaption>{props.label}</figcaption>
      <pre data-testid={props.testId} tabIndex={0}>
        {JSON.stringify(props.value, null, 2)}
      </pre>
    </figure>
  );
}
