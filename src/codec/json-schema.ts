/**
 * JSON Schema validation (ajv) for `evt produce --value-schema` with a JSON Schema subject: the
 * draft is taken from `$schema` (2020-12, 2019-09, else draft-07 rules), referenced schemas are
 * added under their reference names, unknown formats are not checked.
 */
import { createRequire } from 'node:module'
import type { Ajv } from 'ajv'
import type { Ajv2019 } from 'ajv/dist/2019.js'
import type { Ajv2020 } from 'ajv/dist/2020.js'

// ajv (about 100 modules) is loaded when a JSON Schema is compiled, not at start-up.
const require = createRequire(import.meta.url)

/** Checks a parsed JSON value; returns the problems (empty when valid). */
export type JsonValidator = (value: unknown) => string[]

/**
 * Compiles a JSON Schema (text) with its references (name → schema text).
 * @throws Error when the schema does not compile.
 */
export function jsonSchemaValidator(schema: string, references: Array<{ name: string; schema: string }> = []): JsonValidator {
  const parsed = JSON.parse(schema) as Record<string, unknown> | boolean
  const draft = typeof parsed === 'object' ? String(parsed.$schema ?? '') : ''
  const options = { strict: false, allErrors: true, validateFormats: false, validateSchema: false }
  const AjvClass: typeof Ajv | typeof Ajv2019 | typeof Ajv2020 = draft.includes('2020-12')
    ? (require('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020 }).Ajv2020
    : draft.includes('2019-09')
      ? (require('ajv/dist/2019.js') as { Ajv2019: typeof Ajv2019 }).Ajv2019
      : (require('ajv') as { Ajv: typeof Ajv }).Ajv
  const ajv = new AjvClass(options)
  for (const ref of references) {
    const refSchema = JSON.parse(ref.schema) as Record<string, unknown>
    ajv.addSchema(refSchema, ref.name)
  }
  const validate = ajv.compile(parsed)
  return (value) => {
    if (validate(value)) return []
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
  }
}
