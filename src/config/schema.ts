/**
 * The JSON Schema of the profiles file (`config.yaml`), and its validation with ajv into one
 * readable usage error. Types are strict: a boolean is a YAML boolean (`true` / `false`, not
 * `yes`, `"false"` or `${VAR}`), a string is a string (a password YAML would read as a number
 * must be quoted), and an unknown key is an error — a misspelt `skipVerfy` must not be ignored.
 */
import { createRequire } from 'node:module'
import type { Ajv, ErrorObject } from 'ajv'
import { RULE_IDS } from '../lint/rules.ts'

// ajv is loaded when a config file is validated, not at start-up (most runs have no config file).
const require = createRequire(import.meta.url)

const string = { type: 'string' } as const
const stringList = { type: 'array', items: string } as const
/** The lint settings a profile gives for all topics and again per topic glob (`lint:` and `lint.topics.<glob>`). */
const LINT_RULE_SETTINGS = {
  ignore: { $ref: '#/definitions/lintIgnore' },
  severity: { $ref: '#/definitions/lintSeverity' },
  facts: stringList,
  commands: stringList,
} as const
/** A password: a non-empty string (`password:` alone is YAML null). */
const password = { type: 'string', minLength: 1 } as const

/** The SASL mechanisms evt supports (lower case; the file may use any case). */
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const

/** JSON Schema (draft-07) of the profiles file after YAML parsing. */
export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'evt profiles file',
  type: 'object',
  additionalProperties: false,
  properties: {
    default: string,
    profiles: { type: ['object', 'null'], additionalProperties: { $ref: '#/definitions/profile' } },
  },
  definitions: {
    profile: {
      type: 'object',
      additionalProperties: false,
      properties: {
        brokers: { type: ['string', 'array'], items: string },
        clientId: string,
        tls: {
          type: ['boolean', 'object'],
          additionalProperties: false,
          properties: { ca: string, cert: string, key: string, passphrase: password, skipVerify: { type: 'boolean' } },
        },
        sasl: {
          type: 'object',
          additionalProperties: false,
          required: ['mechanism'],
          properties: {
            mechanism: { enum: [...SASL_MECHANISMS] },
            username: string,
            password,
            tokenCommand: { type: ['string', 'array'], items: string, minItems: 1 },
          },
        },
        registry: {
          type: ['string', 'object'],
          additionalProperties: false,
          required: ['url'],
          properties: { url: string, username: string, password },
        },
        protectedTopics: { type: 'array', items: { type: 'string', minLength: 1 } },
        outbox: {
          type: 'object',
          additionalProperties: false,
          properties: {
            db: string,
            table: string,
            topicPrefix: string,
            columns: {
              type: 'object',
              additionalProperties: false,
              properties: Object.fromEntries(['id', 'aggregateType', 'aggregateId', 'type', 'timestamp'].map((k) => [k, string])),
            },
          },
        },
        trace: {
          type: 'object',
          additionalProperties: false,
          properties: { stallAfter: { type: 'string', minLength: 1 }, index: { type: 'string', minLength: 1 } },
        },
        lint: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...LINT_RULE_SETTINGS,
            skew: { type: 'string', minLength: 1 },
            late: { type: 'string', minLength: 1 },
            topics: { type: 'object', additionalProperties: { $ref: '#/definitions/lintTopic' } },
          },
        },
        envelope: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(
            ['order', 'correlationHeaders', 'causationHeaders', 'eventIdHeaders', 'eventTypeHeaders', 'correlationPaths', 'causationPaths', 'eventIdPaths', 'eventTypePaths', 'typeHeaders', 'typePaths'].map((k) => [k, stringList]),
          ),
        },
      },
    },
    /** `lint.topics.<glob>`: the rules' settings on the topics a glob matches. */
    lintTopic: {
      type: 'object',
      additionalProperties: false,
      properties: LINT_RULE_SETTINGS,
    },
    lintIgnore: { type: 'array', items: { enum: [...RULE_IDS] } },
    lintSeverity: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(RULE_IDS.map((r) => [r, { enum: ['error', 'warning', 'info'] }])),
    },
  },
} as const

let compiled: ReturnType<Ajv['compile']> | undefined

/** Fields whose values are never quoted in an error message. */
const SECRET_FIELD = /(^|\.)(password|passphrase|tokenCommand)(\[|$)/

/** JSON pointer segments of an ajv instancePath. */
function segments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** `tls.skipVerify`, `brokers[1]`, from path segments inside a profile. */
function fieldName(parts: string[]): string {
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

function describeValue(v: unknown): string {
  if (v === null) return 'nothing (null)'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`
  if (typeof v === 'object') return 'a mapping'
  return `the ${typeof v} ${String(v)}`
}

const VAR_NOTE = 'a boolean cannot be written as ${VAR} (variables are expanded in strings only, and stay strings)'

/** One ajv error as evt's message (without the file name). */
function message(e: ErrorObject, raw: unknown, originalMechanism: Map<string, unknown>): string {
  const parts = segments(e.instancePath)
  const value = parts.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), raw)
  if (parts.length === 0) {
    if (e.keyword === 'additionalProperties') return `unknown key "${(e.params as { additionalProperty: string }).additionalProperty}" (the file has "default" and "profiles")`
    return 'expected a mapping with "profiles"'
  }
  if (parts[0] === 'default') return '"default" must be a profile name'
  if (parts.length === 1) return '"profiles" must be a mapping of name → profile'
  const profile = `profile "${parts[1]}"`
  const inProfile = parts.slice(2)
  const field = fieldName(inProfile)
  if (inProfile.length === 0) {
    if (e.keyword === 'additionalProperties') return `${profile}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`
    return `${profile} must be a mapping`
  }
  if (e.keyword === 'additionalProperties') return `${profile}: unknown key "${field}.${(e.params as { additionalProperty: string }).additionalProperty}"`
  if (field === 'brokers' && e.keyword === 'type') return `${profile}: brokers must be a list or a comma-separated string`
  if (field === 'sasl' && e.keyword === 'type') return `${profile}: sasl must be a mapping with a mechanism`
  if ((field === 'sasl' && e.keyword === 'required') || field === 'sasl.mechanism') {
    const got = originalMechanism.get(parts[1])
    return `${profile}: sasl.mechanism must be plain, scram-sha-256, scram-sha-512 or oauthbearer (got "${got}")`
  }
  if (field === 'registry' && e.keyword === 'required') return `${profile}: registry needs a url`
  if (/(^|\.)(password|passphrase)$/.test(field) && (value === null || value === '')) return `${profile}: ${field} is empty`
  if (e.keyword === 'minItems') return `${profile}: ${field} is an empty list`
  if (e.keyword === 'type') {
    const types = ([] as string[]).concat((e.params as { type: string | string[] }).type)
    const got = SECRET_FIELD.test(field) ? `got ${value === null ? 'nothing (null)' : Array.isArray(value) ? 'a list' : `a${typeof value === 'object' ? ' mapping' : ` ${typeof value}`}`}` : `got ${describeValue(value)}`
    if (types.includes('boolean')) {
      const want = types.includes('object') ? 'true, false or a mapping' : 'true or false'
      const variable = typeof value === 'string' && value.includes('${') ? `; ${VAR_NOTE}` : ''
      return `${profile}: ${field} must be ${want}, as a YAML boolean without quotes (${got})${variable}`
    }
    if (types.includes('string') && types.length === 1) return `${profile}: ${field} must be a string (${got}; quote it if YAML reads it as something else)`
    const names = types.map((t) => (t === 'array' ? 'a list' : t === 'object' ? 'a mapping' : `a ${t}`))
    return `${profile}: ${field} must be ${names.join(' or ')} (${got})`
  }
  if (e.keyword === 'enum') return `${profile}: ${field} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')} (got ${describeValue(value)})`
  return `${profile}: ${field} ${e.message ?? 'is invalid'}`
}

/**
 * Validates a parsed profiles file against {@link CONFIG_SCHEMA}. Lower-cases `sasl.mechanism`
 * in place first (the file may write `SCRAM-SHA-512`).
 * @returns the first problem as a message (`profile "prod": unknown key "tls.skipVerfy"`), or
 *   undefined when the file is valid.
 */
export function schemaProblem(raw: unknown): string | undefined {
  const originalMechanism = new Map<string, unknown>()
  const profiles = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).profiles : undefined
  if (profiles && typeof profiles === 'object' && !Array.isArray(profiles)) {
    for (const [name, p] of Object.entries(profiles)) {
      const sasl = p && typeof p === 'object' ? (p as Record<string, unknown>).sasl : undefined
      if (sasl && typeof sasl === 'object' && !Array.isArray(sasl)) {
        const s = sasl as Record<string, unknown>
        originalMechanism.set(name, s.mechanism)
        if (typeof s.mechanism === 'string') s.mechanism = s.mechanism.toLowerCase()
      }
    }
  }
  const AjvClass = (require('ajv') as { Ajv: typeof Ajv }).Ajv
  compiled ??= new AjvClass({ allErrors: false, strict: true, allowUnionTypes: true }).compile(CONFIG_SCHEMA)
  if (compiled(raw)) return undefined
  const errors = compiled.errors ?? []
  return message(errors[0], raw, originalMechanism)
}
