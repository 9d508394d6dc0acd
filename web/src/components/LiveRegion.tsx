/** Polite announcements for screen readers: live outbox changes and results of actions. */
export function LiveRegion(props: { message: string }) {
  return (
    <div className="sr-only" aria-live="polite" aria-atomic="true" data-testid="live-region">
      {props.message}
    </div>
  );
}
