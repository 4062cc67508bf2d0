// The official SARIF 2.1.0 JSON schema, from an npm package (no network at test time).
// @microsoft/jest-sarif ships it as lib/schemas/sarif-2.1.0-rtm.5.json (rtm.5 is the 2.1.0
// release schema, draft-04). FAULTLINE_SARIF_SCHEMA may point at a copy instead.

import { existsSync, readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

export function findSarifSchema(): string | undefined {
  const env = process.env.FAULTLINE_SARIF_SCHEMA;
  if (env && existsSync(env)) return env;
  try {
    return require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
  } catch {
    return undefined;
  }
}

export type Validate = ((data: unknown) => boolean) & { errors?: unknown };

export function sarifValidator(path: string): Validate {
  const schema = JSON.parse(readFileSync(path, 'utf8'));
  // draft-04 spells the schema id `id`; Ajv 8 speaks draft-07+, where it is `$id`. Nothing
  // else in this schema differs between the drafts (no boolean exclusiveMinimum).
  if (schema.id && !schema.$id) { schema.$id = schema.id; delete schema.id; }
  delete schema.$schema;
  // One pattern in the official schema (language tags) is not valid in unicode mode.
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema) as Validate;
}
