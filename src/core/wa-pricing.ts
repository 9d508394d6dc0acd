/**
 * WhatsApp per-message pricing (docs/providers.md, "Pricing"): since July 2025 Meta prices each
 * delivered template message by category, and status webhooks carry `pricing {billable,
 * pricing_model, category, type}`. The operator's price table turns a month's counts into an
 * estimate in AZN. Pure: no I/O.
 */

/** "marketing=0.0860,utility=0.0140,authentication=0.0140" → per-category price in AZN. */
export function parsePriceTable(raw: string): Map<string, number> | string {
  const table = new Map<string, number>();
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z_]{1,40})=(\d{1,6}(?:\.\d{1,6})?)$/.exec(part);
    if (!m) return `"${part.slice(0, 40)}" is not category=price (e.g. marketing=0.086)`;
    table.set(m[1]!, Number(m[2]));
  }
  return table;
}

export interface UsageCount {
  category: string;
  billable: boolean;
  messages: number;
}

export interface UsageEstimate {
  /** Billable messages × the category's price; categories without a price are listed, not guessed. */
  estimatedAzn: number;
  unpricedCategories: string[];
}

export function estimateAzn(
  counts: readonly UsageCount[],
  prices: ReadonlyMap<string, number>,
): UsageEstimate {
  let total = 0;
  const unpriced = new Set<string>();
  for (const c of counts) {
    if (!c.billable) continue;
    const p = prices.get(c.category);
    if (p === undefined) unpriced.add(c.category);
    else total += p * c.messages;
  }
  // Money in AZN to the qəpik's hundredth: the price table itself has at most 6 decimals.
  return { estimatedAzn: Math.round(total * 10_000) / 10_000, unpricedCategories: [...unpriced].sort() };
}

/** "acme=500,demo=100" → the most billable WhatsApp messages per tenant per calendar month. */
export function parseCaps(raw: string): Map<string, number> | string {
  const caps = new Map<string, number>();
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9][a-z0-9_-]{0,62})=(\d{1,9})$/.exec(part);
    if (!m) return `"${part.slice(0, 40)}" is not tenant=count (e.g. demo=500)`;
    caps.set(m[1]!, Number(m[2]));
  }
  return caps;
}
