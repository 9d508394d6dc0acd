import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { renderTemplate, TEMPLATE_IDS } from '../../src/core/templates.ts';
import { toAppError } from '../../src/http/errors.ts';
import { classifySmtp } from '../../src/providers/smtp-errors.ts';
import { twilioLocale } from '../../src/providers/twilio-verify.ts';
import { inboundText } from '../../src/webhooks/whatsapp-payload.ts';

/**
 * A key that comes from outside (a request, a provider's answer, a webhook) is looked up as an own
 * property only: the names every plain object inherits must read as unknown, never as a built-in.
 */
const INHERITED = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'toLocaleString',
  'propertyIsEnumerable',
  '__defineGetter__',
];
const ctx = { locale: 'en' as const, currency: 'AZN', timeZone: 'Asia/Baku' };

describe('user-supplied keys are own properties only', () => {
  it.each(INHERITED)('template id "%s" is unknown_template', (id) => {
    let err: unknown;
    try {
      renderTemplate(id, {}, ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('unknown_template');
    expect(TEMPLATE_IDS).not.toContain(id);
  });

  it('template data fields are read from the data itself, not its prototype', () => {
    const data = Object.create({ ticket: 'A-1' }) as Record<string, unknown>;
    expect(() => renderTemplate('kitchen_ticket_ready', data, ctx)).toThrow(/needs data fields: ticket/);
  });

  it.each(INHERITED)('provider and webhook tables answer "%s" as unknown', (key) => {
    expect(twilioLocale(key)).toBeUndefined();
    const smtp = classifySmtp({ code: key, message: 'odd' });
    expect(smtp.class).toBe('retryable');
    expect(inboundText({ type: key })).toBeNull();
    expect(toAppError(Object.assign(new Error('x'), { code: key }), createRedactor({})).code).toBe(
      'internal_error',
    );
  });

  it('a "__proto__" key stays a key through scrubbing (it does not set a prototype)', () => {
    const redactor = createRedactor({ TELEGRAM_BOT_TOKEN: '123456:secret-token-value-long-enough' });
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const out = redactor.scrubValue(value);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('lint refuses a string-keyed constant table as a plain object, in src/', async () => {
    // The sample is not a file of the project, so it is linted without type information (the
    // type-aware rules are the other part of the config; this rule reads syntax only).
    const eslint = new ESLint({
      overrideConfig: {
        languageOptions: { parserOptions: { projectService: false } },
        rules: {
          '@typescript-eslint/no-floating-promises': 'off',
          '@typescript-eslint/no-misused-promises': 'off',
        },
      },
    });
    const code = [
      'const RULES: Record<string, number> = { a: 1 };',
      "const NAMES: Readonly<Record<string, string>> = { a: 'b' };",
      'const CAST = { a: 1 } as Record<string, number>;',
      "const CLOSED: Record<'a' | 'b', number> = { a: 1, b: 2 };",
      'const MAPPED = new Map(Object.entries({ a: 1 } satisfies Record<string, number>));',
      'export { RULES, NAMES, CAST, CLOSED, MAPPED };',
      '',
    ].join('\n');
    const [result] = await eslint.lintText(code, { filePath: 'src/core/lookup-example.ts' });
    const lines = result!.messages
      .filter((m) => m.ruleId === 'no-restricted-syntax' && /must be a Map/.test(m.message))
      .map((m) => m.line);
    expect(lines).toEqual([1, 2, 3]);
  });
});
