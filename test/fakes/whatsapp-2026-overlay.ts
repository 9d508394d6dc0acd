/**
 * What the WhatsApp Cloud API does in 2026 that the vendored v23.0 spec
 * (vendor/provider-specs/meta-whatsapp) predates. The spec stays as it was; the fake reads these
 * additions from here. Every entry names its source (docs/providers.md, "WhatsApp in 2026", lists
 * them with the date each was read).
 */

export const SOURCES = {
  metaBsuid:
    "Meta, 'Business-scoped user IDs' (developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/, updated 2026)",
  ycloud:
    "YCloud, 'Business-Scoped User IDs API & Webhook Updates' (docs.ycloud.com/reference/webhook-updates-bsuid)",
  dualhook: "Dualhook, 'BSUID Webhook Changes' (dualhook.com/docs/contacts-bsuid-webhooks)",
  vonage: "Vonage, 'Webhook Changes for WhatsApp Usernames' (api.support.vonage.com, article 26937692681244)",
  dialog360:
    "360dialog, 'Usernames & BSUID' (docs.360dialog.com/docs/resources/phone-numbers/usernames-and-bsuid)",
  metaSystem:
    "Meta, 'System messages webhook reference' (developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/system)",
  metaChangelog:
    'Meta, WhatsApp Business Platform changelog, entry of 2026-08-11 (developers.facebook.com/documentation/business-messaging/whatsapp/changelog/)',
  metaStatus:
    "Meta, 'Status messages webhook reference' (developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status)",
  genesys:
    "Genesys Cloud, 'Manage your WhatsApp business account' error table (help.mypurecloud.com/?p=301564)",
  metaThroughput:
    "Meta, 'Throughput' (developers.facebook.com/documentation/business-messaging/whatsapp/throughput, updated May 2026)",
  dualhookLimits: "Dualhook, 'Capacity & Quality Limits' (dualhook.com/docs/capacity-quality-limits)",
  whats91: "Whats91, 'Rate Limits' (developers.whats91.com/rate-limits)",
  metaTemplates:
    "Meta, 'Message templates' and WhatsApp Business Account > message_templates (developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates/)",
  issue: 'the issue that asked for this work (facts it gives, not re-verified where marked)',
} as const;

export interface OverlayEntry {
  id: string;
  fact: string;
  source: readonly (keyof typeof SOURCES)[];
  /** Set when no primary source confirmed the exact shape: the fake follows it, the adapter tolerates more. */
  unverified?: string;
}

export const OVERLAY: readonly OverlayEntry[] = [
  {
    id: 'bsuid.format',
    fact: 'A BSUID is a two-letter ISO country code, a dot and up to 128 letters/digits (US.13491208655302741918).',
    source: ['dialog360', 'metaBsuid'],
  },
  {
    id: 'bsuid.parent',
    fact: 'A parent BSUID shared across portfolios has ENT after the country code (US.ENT.11815799212886844830).',
    source: ['dialog360'],
  },
  {
    id: 'send.recipient',
    fact: 'Sends accept `recipient` (BSUID or parent BSUID) instead of `to`; when both are given `to` wins.',
    source: ['ycloud', 'metaBsuid'],
  },
  {
    id: 'inbound.contacts',
    fact: 'Inbound messages: contacts[].user_id always, contacts[].parent_user_id when enabled, contacts[].profile.username when the user has one; wa_id and messages[].from only when the phone is available.',
    source: ['dualhook', 'metaBsuid'],
  },
  {
    id: 'inbound.from_user_id',
    fact: 'messages[].from_user_id carries the sender BSUID next to (or instead of) from.',
    source: ['metaBsuid'],
    unverified: 'field name read from BSP summaries; the parser also takes contacts[].user_id',
  },
  {
    id: 'status.recipient_user_id',
    fact: 'Statuses carry recipient_user_id (always when sent to a BSUID) and recipient_parent_user_id when enabled; recipient_id only when the phone is available.',
    source: ['dualhook'],
  },
  {
    id: 'status.pricing',
    fact: 'sent/delivered/read statuses carry pricing {billable, pricing_model (PMP since July 2025, CBP before), category, type}.',
    source: ['metaStatus', 'vonage'],
  },
  {
    id: 'system.user_changed_number',
    fact: 'System message type user_changed_number: from = old phone, system.wa_id = new wa_id; no contacts array.',
    source: ['metaSystem'],
  },
  {
    id: 'system.user_changed_user_id',
    fact: 'System message type user_changed_user_id (no phone number, no contacts array): the old BSUIDs in system.previous_user_id and system.previous_parent_user_id, the new one in system.user_id. user_changed_number carries the previous_ fields too.',
    source: ['metaSystem', 'metaChangelog'],
    unverified:
      'the changelog names the previous_ fields and says the new values come alongside; system.user_id / system.parent_user_id for the new values is inferred from the field names used everywhere else',
  },
  {
    id: 'error.131062',
    fact: '131062: BSUID recipients are not supported for this message (authentication templates still need a phone number).',
    source: ['metaBsuid', 'issue'],
    unverified: 'code title read from the issue and BSP notes',
  },
  {
    id: 'limit.throughput',
    fact: 'Each business phone number sends up to 80 messages/s by default (1,000 after an automatic upgrade, 20 for numbers shared with the Business app); above it the API answers 130429 until the number is back within its level.',
    source: ['metaThroughput', 'whats91'],
  },
  {
    id: 'limit.pair',
    fact: 'One business number may send about one message every 6 s to the same user, with bursts of up to 45 that borrow from later; above it the API answers 131056 until the pair is back within its rate.',
    source: ['metaThroughput', 'dualhookLimits', 'whats91'],
    unverified: "Meta's throughput page names the pair limit; the 6 s / 45 figures are from BSP pages",
  },
  {
    id: 'templates.list',
    fact: "GET /{version}/{WABA-ID}/message_templates lists templates with name, language, category, status and components (BODY text with {{n}} placeholders), paged with paging.cursors and paging.next; Meta may change a template's category after approval.",
    source: ['metaTemplates'],
  },
  {
    id: 'error.131049',
    fact: '131049: not delivered to maintain a healthy ecosystem (per-user marketing template limit).',
    source: ['genesys'],
  },
];

/** Meta's default limits (limit.throughput, limit.pair): messages per second, and the pair's spacing and burst. */
export const DEFAULT_THROUGHPUT_PER_SECOND = 80;
export const PAIR_INTERVAL_MS = 6_000;
export const PAIR_BURST = 45;

/** JSON-schema fragment for the new `recipient` send field (the fake's relaxed schema adds it). */
export const RECIPIENT_PROPERTY = {
  type: 'string',
  pattern: '^[A-Z]{2}\\.(ENT\\.)?[A-Za-z0-9]{1,128}$',
} as const;

/** Graph API errors the overlay adds to the fake's table (HTTP status as for the other 131xxx codes). */
export const OVERLAY_ERRORS = {
  131062: {
    status: 400,
    title: 'Business-scoped user ID recipients not supported',
    details: 'This message cannot be sent to a business-scoped user ID; use a phone number.',
  },
  131049: {
    status: 400,
    title: 'This message was not delivered to maintain healthy ecosystem engagement.',
    details: 'Per-user marketing message limit.',
  },
} as const;

export const isBsuid = (s: string): boolean => /^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$/.test(s);
