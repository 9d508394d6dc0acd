import type { ErrorObject, ValidateFunction } from 'ajv';
import { createAjv } from './ajv.ts';
import { inlineOpenApiSchema, loadJsonSpec, resolvePointer } from './specs.ts';

/**
 * Form validators for the Verify operations the fake serves, compiled from the requestBody schemas
 * in the official spec (twilio/twilio_verify_v2.json). Overlay, because the spec is silent on it:
 * `additionalProperties: false`, so a field name the spec does not list is refused (60200) instead
 * of being ignored, which catches misspelt PascalCase names in our adapter.
 */

export const TWILIO_SPEC_FILE = 'twilio/twilio_verify_v2.json';

export type TwilioOperation = 'create' | 'check' | 'update';

const POINTERS: Record<TwilioOperation, string> = {
  create: '/v2/Services/{ServiceSid}/Verifications',
  check: '/v2/Services/{ServiceSid}/VerificationCheck',
  update: '/v2/Services/{ServiceSid}/Verifications/{Sid}',
};

export function twilioSpec(): unknown {
  return loadJsonSpec(TWILIO_SPEC_FILE);
}

/** The spec's own form schema for an operation, with local $refs inlined. */
export function twilioRequestSchema(op: TwilioOperation): Record<string, unknown> {
  const doc = twilioSpec();
  const path = POINTERS[op].replace(/~/g, '~0').replace(/\//g, '~1');
  const raw = resolvePointer(
    doc,
    `#/paths/${path}/post/requestBody/content/application~1x-www-form-urlencoded/schema`,
  );
  return inlineOpenApiSchema(doc, raw) as Record<string, unknown>;
}

/** A response schema from the spec's components (e.g. 'verify.v2.service.verification'), inlined. */
export function twilioComponentSchema(name: string): Record<string, unknown> {
  const doc = twilioSpec();
  return inlineOpenApiSchema(doc, resolvePointer(doc, `#/components/schemas/${name}`)) as Record<
    string,
    unknown
  >;
}

// Form values arrive as strings; coerce so the spec's boolean fields (EnableSnaClientToken) accept "true".
const ajv = createAjv({ coerceTypes: true });
const validators = new Map<TwilioOperation, ValidateFunction>();

function validatorFor(op: TwilioOperation): ValidateFunction {
  let v = validators.get(op);
  if (!v) {
    v = ajv.compile({ ...twilioRequestSchema(op), additionalProperties: false });
    validators.set(op, v);
  }
  return v;
}

export interface FormProblem {
  /** The PascalCase parameter at fault, as Twilio names it in 60200 messages. */
  field: string;
  detail: string;
}

/** Validates a parsed form against the spec; returns the first problem or undefined. */
export function validateTwilioForm(
  op: TwilioOperation,
  form: Record<string, unknown>,
): FormProblem | undefined {
  const validate = validatorFor(op);
  if (validate({ ...form })) return undefined;
  const first = validate.errors?.[0];
  return first
    ? { field: fieldOf(first), detail: first.message ?? first.keyword }
    : { field: '?', detail: 'invalid' };
}

function fieldOf(e: ErrorObject): string {
  const p = e.params as { missingProperty?: string; additionalProperty?: string };
  return p.missingProperty ?? p.additionalProperty ?? (e.instancePath.split('/')[1] || '?');
}
