import { Ajv, type ErrorObject, type Options } from 'ajv';
import formatsModule from 'ajv-formats';

// ajv-formats is CommonJS with only a default export; under NodeNext the default import is the
// module object at type level, so take `.default` when it is there.
const addFormats = ((formatsModule as unknown as { default?: typeof formatsModule }).default ??
  formatsModule) as unknown as (ajv: Ajv) => Ajv;

/** One Ajv setup for every fake: all errors, formats, and no complaints about OpenAPI-only keywords. */
export function createAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}

/** Short human text for Ajv errors, e.g. "/text/body must NOT have more than 4096 characters". */
export function describeAjvErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => {
      const extra =
        e.keyword === 'additionalProperties'
          ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
          : '';
      return `${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`;
    })
    .join('; ');
}
