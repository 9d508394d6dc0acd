import { isPlainObject } from './http-fake-base.ts';
import { loadJsonSpec } from './specs.ts';

/**
 * Method parameters checked against the community Bot API dump (telegram/api.json): required fields
 * present, each value of one of the field's listed types, unknown names refused. Form bodies carry
 * every value as a string (objects JSON-serialised), so values are normalised to their JSON types.
 */

export const TELEGRAM_SPEC_FILE = 'telegram/api.json';

interface FieldSpec {
  name: string;
  types: string[];
  required: boolean;
}

interface ApiDump {
  methods: Record<string, { name: string; fields?: FieldSpec[] }>;
  types: Record<string, unknown>;
}

export function telegramApi(): ApiDump {
  return loadJsonSpec(TELEGRAM_SPEC_FILE) as ApiDump;
}

export type ParamsResult =
  { ok: true; params: Record<string, unknown> } | { ok: false; description: string; field?: string };

// Telegram's own wording for the two fields every sendMessage needs (PROVIDERS.md section 4).
const EMPTY_MESSAGES: Record<string, string> = {
  'sendMessage.chat_id': 'Bad Request: chat_id is empty',
  'sendMessage.text': 'Bad Request: message text is empty',
};

export function validateTelegramParams(method: string, raw: Record<string, unknown>): ParamsResult {
  const spec = telegramApi().methods[method];
  if (!spec) return { ok: false, description: 'Not Found' };
  const fields = new Map((spec.fields ?? []).map((f) => [f.name, f]));
  for (const name of Object.keys(raw)) {
    if (!fields.has(name)) return { ok: false, description: 'Bad Request: unknown parameter', field: name };
  }
  const params: Record<string, unknown> = {};
  for (const f of fields.values()) {
    const value = raw[f.name];
    if (value === undefined || value === null) {
      if (f.required) {
        return {
          ok: false,
          description:
            EMPTY_MESSAGES[`${method}.${f.name}`] ?? `Bad Request: parameter "${f.name}" is required`,
          field: f.name,
        };
      }
      continue;
    }
    const normalised = matchAny(f.types, value);
    if (normalised === NO_MATCH) {
      return {
        ok: false,
        description: `Bad Request: field "${f.name}" must be of type ${f.types.join(' or ')}`,
        field: f.name,
      };
    }
    params[f.name] = normalised;
  }
  return { ok: true, params };
}

const NO_MATCH = Symbol('no match');

function matchAny(types: string[], value: unknown): unknown {
  for (const t of types) {
    const v = matchType(t, value);
    if (v !== NO_MATCH) return v;
  }
  return NO_MATCH;
}

function matchType(type: string, value: unknown): unknown {
  if (type.startsWith('Array of ')) {
    const arr = typeof value === 'string' ? parseJsonText(value) : value;
    if (!Array.isArray(arr)) return NO_MATCH;
    const inner = type.slice('Array of '.length);
    const out = arr.map((x) => matchType(inner, x));
    return out.includes(NO_MATCH) ? NO_MATCH : out;
  }
  switch (type) {
    case 'Integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      return typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : NO_MATCH;
    case 'Float':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
        ? Number(value)
        : NO_MATCH;
    case 'String':
      return typeof value === 'string' ? value : NO_MATCH;
    case 'Boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      return NO_MATCH;
    case 'InputFile':
      // A file_id or URL string, or an uploaded file (not supported by this fake's body parsers).
      return typeof value === 'string' || isPlainObject(value) ? value : NO_MATCH;
    default: {
      // Any object type of the API (ReplyParameters, InlineKeyboardMarkup, ...): an object is enough.
      if (!(type in telegramApi().types)) return NO_MATCH;
      const obj = typeof value === 'string' ? parseJsonText(value) : value;
      return isPlainObject(obj) ? obj : NO_MATCH;
    }
  }
}

function parseJsonText(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}
