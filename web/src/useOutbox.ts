import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from './api.ts';
import type { OutboxItem } from './types.ts';

const PAGE = 50;
// The list endpoint's largest page: a live refresh re-reads up to this many loaded rows at once.
const MAX_PAGE = 200;

export interface OutboxFilters {
  status: string;
  channel: string;
}

export interface OutboxList {
  items: OutboxItem[];
  nextCursor: string | null;
  loading: boolean;
  error: unknown;
  filters: OutboxFilters;
  setFilters(f: OutboxFilters): void;
  loadMore(): Promise<void>;
  /** Re-reads the loaded rows (new rows and status changes); resolves with the new list. */
  refresh(): Promise<OutboxItem[] | null>;
}

export function useOutbox(): OutboxList {
  const [items, setItems] = useState<OutboxItem[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [filters, setFilters] = useState<OutboxFilters>({ status: '', channel: '' });
  const seq = useRef(0);
  const state = useRef({ items, nextCursor, filters });
  state.current = { items, nextCursor, filters };

  const run = useCallback(async (limit: number, keepTail: boolean): Promise<OutboxItem[] | null> => {
    const n = ++seq.current;
    const { items: before, nextCursor: cursorBefore, filters: f } = state.current;
    setLoading(true);
    try {
      const page = await api.outboxList({ limit, status: f.status, channel: f.channel });
      if (n !== seq.current) return null;
      const fresh = new Set(page.items.map((i) => i.id));
      const tail = keepTail ? before.slice(limit).filter((i) => !fresh.has(i.id)) : [];
      const next = [...page.items, ...tail];
      setItems(next);
      setNextCursor(tail.length > 0 ? cursorBefore : page.nextCursor);
      setError(null);
      return next;
    } catch (err) {
      if (n === seq.current) setError(err);
      return null;
    } finally {
      if (n === seq.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    setItems([]);
    void run(PAGE, false);
  }, [filters, run]);

  const refresh = useCallback(() => {
    const loaded = state.current.items.length;
    return run(Math.min(MAX_PAGE, Math.max(PAGE, loaded)), loaded > MAX_PAGE);
  }, [run]);

  const loadMore = useCallback(async () => {
    const { nextCursor: cursor, filters: f } = state.current;
    if (!cursor) return;
    const n = ++seq.current;
    setLoading(true);
    try {
      const page = await api.outboxList({ limit: PAGE, cursor, status: f.status, channel: f.channel });
      if (n !== seq.current) return;
      setItems((prev) => {
        const have = new Set(prev.map((i) => i.id));
        return [...prev, ...page.items.filter((i) => !have.has(i.id))];
      });
      setNextCursor(page.nextCursor);
      setError(null);
    } catch (err) {
      if (n === seq.current) setError(err);
    } finally {
      if (n === seq.current) setLoading(false);
    }
  }, []);

  return { items, nextCursor, loading, error, filters, setFilters, loadMore, refresh };
}
