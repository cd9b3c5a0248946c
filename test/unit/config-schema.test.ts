/**
 * The profiles file's JSON Schema: strict booleans and strings, unknown keys refused, messages
 * naming the file, the profile and the field (never a secret's value).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import YAML from 'yaml'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resolveConnection } from '../../src/config/connection.ts'
import { literalSecrets, loadConfig, validateConfig } from '../../src/config/profiles.ts'
import { CONFIG_SCHEMA } from '../../src/config/schema.ts'
import { EvtError } from '../../src/errors.ts'

let dir: string
let cfg: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'evt-schema-test-'))
  cfg = join(dir, 'config.yaml')
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** The usage error validating a YAML text gives. */
function problem(yaml: string): EvtError {
  try {
    validateConfig(YAML.parse(yaml), 'cfg.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(EvtError)
    expect((err as EvtError).exitCode).toBe(2)
    return err as EvtError
  }
  throw new Error('expected a usage error')
}

describe('booleans are YAML booleans', () => {
  it.each([
    ['skipVerify: no', 'profile "p": tls.skipVerify must be true or false, as a YAML boolean without quotes (got the string "no")'],
    ['skipVerify: "false"', 'profile "p": tls.skipVerify must be true or false, as a YAML boolean without quotes (got the string "false")'],
    ['skipVerify: yes', 'profile "p": tls.skipVerify must be true or false, as a YAML boolean without quotes (got the string "yes")'],
    ['skipVerify: 0', 'profile "p": tls.skipVerify must be true or false, as a YAML boolean without quotes (got the number 0)'],
  ])('tls: { %s } → usage error', (entry, message) => {
    expect(problem(`profiles:\n  p:\n    tls: { ${entry} }\n`).message).toBe(`cfg.yaml: ${message}`)
  })

  it('a boolean written as ${VAR} → usage error saying a boolean cannot be a variable', () => {
    const err = problem('profiles:\n  p:\n    tls:\n      skipVerify: ${SKIP}\n')
    expect(err.message).toBe('cfg.yaml: profile "p": tls.skipVerify must be true or false, as a YAML boolean without quotes (got the string "${SKIP}"); a boolean cannot be written as ${VAR} (variables are expanded in strings only, and stay strings)')
  })

  it.each(['yes', '"true"', 'on', '1', '"${TLS}"'])('tls: %s → usage error (not TLS on, not plaintext)', (value) => {
    expect(problem(`profiles:\n  p:\n    tls: ${value}\n`).message).toMatch(/^cfg\.yaml: profile "p": tls must be true, false or a mapping, as a YAML boolean without quotes \(got /)
  })

  it('true and false are accepted', () => {
    expect(validateConfig(YAML.parse('profiles:\n  p:\n    tls: { skipVerify: false }\n  q:\n    tls: true\n')).profiles).toEqual({ p: { tls: { skipVerify: false } }, q: { tls: true } })
  })
})

describe('strings are strings; secrets are not quoted', () => {
  it('a numeric password is refused without printing it', () => {
    const err = problem('profiles:\n  p:\n    sasl: { mechanism: plain, username: u, password: 98765 }\n')
    expect(err.message).toBe('cfg.yaml: profile "p": sasl.password must be a string (got a number; quote it if YAML reads it as something else)')
    expect(err.message).not.toContain('98765')
  })

  it('a numeric clientId is refused', () => {
    expect(problem('profiles:\n  p:\n    clientId: 42\n').message).toBe('cfg.yaml: profile "p": clientId must be a string (got the number 42; quote it if YAML reads it as something else)')
  })

  it('brokers[1] must be a string', () => {
    expect(problem('profiles:\n  p:\n    brokers: [a:1, 5]\n').message).toBe('cfg.yaml: profile "p": brokers[1] must be a string (got the number 5; quote it if YAML reads it as something else)')
  })

  it.each([
    ['sasl: { mechanism: plain, username: u, password: }', 'sasl.password is empty'],
    ['sasl: { mechanism: plain, username: u, password: "" }', 'sasl.password is empty'],
    ['registry: { url: "http://r", username: u, password: }', 'registry.password is empty'],
  ])('%s → %s (not the string "null")', (entry, message) => {
    expect(problem(`profiles:\n  p:\n    ${entry}\n`).message).toBe(`cfg.yaml: profile "p": ${message}`)
  })
})

describe('unknown keys are errors naming the key, the profile and the file', () => {
  it.each([
    ['tls: { ca: /x, skipVerfy: true }', 'profile "p": unknown key "tls.skipVerfy"'],
    ['sasl: { mechanism: plain, username: u, password: p, pasword: q }', 'profile "p": unknown key "sasl.pasword"'],
    ['registry: { url: "http://r", user: u }', 'profile "p": unknown key "registry.user"'],
    ['envelope: { orders: [seed] }', 'profile "p": unknown key "envelope.orders"'],
    ['broker: a:1', 'profile "p": unknown key "broker"'],
  ])('%s', (entry, message) => {
    expect(problem(`profiles:\n  p:\n    ${entry}\n`).message).toBe(`cfg.yaml: ${message}`)
  })

  it('at the top level', () => {
    expect(problem('defaults: p\nprofiles: {}\n').message).toBe('cfg.yaml: unknown key "defaults" (the file has "default" and "profiles")')
  })

  it('loadConfig names the real file', () => {
    writeFileSync(cfg, 'profiles:\n  prod:\n    tls: { skipverify: true }\n')
    expect(() => loadConfig(cfg, () => {})).toThrow(`${cfg}: profile "prod": unknown key "tls.skipverify"`)
  })
})

describe('tokenCommand', () => {
  it('a list or a command line; shell syntax refused with the reason', () => {
    expect(validateConfig(YAML.parse('profiles:\n  p:\n    sasl: { mechanism: oauthbearer, tokenCommand: [gcloud, auth, print-access-token] }\n')).profiles.p.sasl?.tokenCommand).toEqual(['gcloud', 'auth', 'print-access-token'])
    expect(problem('profiles:\n  p:\n    sasl: { mechanism: oauthbearer, tokenCommand: "get-token | tr -d x" }\n').message).toMatch(/^cfg\.yaml: profile "p": sasl\.tokenCommand: shell syntax "\|" is not supported/)
    expect(problem('profiles:\n  p:\n    sasl: { mechanism: oauthbearer, tokenCommand: "printf ${TOKEN}" }\n').message).toMatch(/^cfg\.yaml: profile "p": sasl\.tokenCommand: the command is run without a shell and "\$" is not expanded/)
    expect(problem('profiles:\n  p:\n    sasl: { mechanism: oauthbearer, tokenCommand: [] }\n').message).toBe('cfg.yaml: profile "p": sasl.tokenCommand is an empty list')
  })
})

describe('the schema itself', () => {
  it('is a draft-07 schema without unknown-key holes', () => {
    expect(CONFIG_SCHEMA.$schema).toBe('http://json-schema.org/draft-07/schema#')
    const objects: Array<Record<string, unknown>> = []
    const walk = (v: unknown) => {
      if (!v || typeof v !== 'object') return
      const o = v as Record<string, unknown>
      if (o.properties) objects.push(o)
      for (const x of Object.values(o)) walk(x)
    }
    walk(CONFIG_SCHEMA)
    expect(objects.length).toBeGreaterThanOrEqual(6)
    for (const o of objects) expect(o.additionalProperties).toBe(false)
  })
})

describe('warnings', () => {
  it('skipVerify: true warns on every resolve; false does not', () => {
    writeFileSync(cfg, 'profiles:\n  t:\n    tls: { skipVerify: true }\n  f:\n    tls: { skipVerify: false }\n')
    chmodSync(cfg, 0o600)
    const warnings: string[] = []
    const warn = (m: string) => warnings.push(m)
    resolveConnection({ timeoutMs: 1000, profile: 't', warn }, { EVT_CONFIG: cfg })
    resolveConnection({ timeoutMs: 1000, profile: 't', warn }, { EVT_CONFIG: cfg })
    expect(warnings).toEqual(Array(2).fill('profile "t" has tls.skipVerify: true: broker certificates are not checked, so anyone on the network path can read the traffic, credentials included (set tls.ca instead)'))
    warnings.length = 0
    expect(resolveConnection({ timeoutMs: 1000, profile: 'f', warn }, { EVT_CONFIG: cfg }).ssl).toEqual({ ca: undefined, cert: undefined, key: undefined, rejectUnauthorized: true })
    expect(warnings).toEqual([])
  })

  it('a world-readable file with a literal password warns with chmod 600; 0600 or ${VAR} references do not', () => {
    const warnings: string[] = []
    const warn = (m: string) => warnings.push(m)
    writeFileSync(cfg, 'profiles:\n  p:\n    sasl: { mechanism: plain, username: u, password: literal-pw }\n')
    chmodSync(cfg, 0o644)
    loadConfig(cfg, warn)
    expect(warnings).toEqual([`${cfg} holds passwords and is readable by every user of this machine: run chmod 600 ${cfg} (or reference the passwords as \${VAR})`])
    warnings.length = 0
    chmodSync(cfg, 0o640)
    loadConfig(cfg, warn)
    expect(warnings).toEqual([])
    writeFileSync(cfg, 'profiles:\n  p:\n    sasl: { mechanism: plain, username: u, password: "${PW}" }\n    registry: { url: "https://u:${RP}@r", password: "${RP}" }\n')
    chmodSync(cfg, 0o644)
    loadConfig(cfg, warn)
    expect(warnings).toEqual([])
  })

  it('literalSecrets: passwords and URL passwords that are not a whole ${VAR}', () => {
    const config = validateConfig(YAML.parse('profiles:\n  a:\n    sasl: { mechanism: plain, username: u, password: "pre-${X}" }\n    registry: "http://u:p@ss@host"\n  b:\n    registry: { url: "https://u:${P}@h", password: lit }\n'))
    expect(literalSecrets(config)).toEqual(['pre-${X}', 'p@ss', 'lit'])
  })

  it('an empty password from ${VAR} → usage error', () => {
    writeFileSync(cfg, 'profiles:\n  p:\n    sasl: { mechanism: plain, username: u, password: "${PW}" }\n')
    expect(() => resolveConnection({ timeoutMs: 1000, profile: 'p', warn: () => {} }, { EVT_CONFIG: cfg, PW: '' })).toThrow('profile "p": sasl.password is empty (${PW} expands to an empty string)')
  })

  it('${VAR} expansion keeps strings strings', () => {
    writeFileSync(cfg, 'profiles:\n  p:\n    clientId: "${CID}"\n    sasl: { mechanism: plain, username: "${U}", password: "${PW}" }\n')
    const c = resolveConnection({ timeoutMs: 1000, profile: 'p', warn: () => {} }, { EVT_CONFIG: cfg, CID: 'false', U: 'true', PW: '123' })
    expect(c.clientId).toBe('false')
    expect(c.sasl).toEqual({ mechanism: 'plain', username: 'true', password: '123' })
  })
})

describe('the README\'s profile examples', () => {
  it('every yaml block with profiles is a valid config file', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8')
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => /^\s*profiles:/m.test(b))
    expect(blocks.length).toBeGreaterThanOrEqual(3)
    for (const block of blocks) {
      const indent = /^( *)profiles:/m.exec(block)![1].length
      const text = block.split('\n').map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n')
      expect(() => validateConfig(YAML.parse(text), 'README.md')).not.toThrow()
    }
  })
})

describe('the lint section', () => {
  const full = 'profiles:\n  p:\n    lint:\n      ignore: [causation-dangling]\n      severity: { schema-less-payload: warning }\n      facts: [OrderSnapshot]\n      commands: [PaymentRequest]\n      skew: 2m\n      late: 6h\n      topics:\n        "legacy.*":\n          ignore: [key-not-aggregate]\n          severity: { version-drift: info }\n          facts: [Shipping]\n'

  it('accepts every setting, top level and per topic glob, and hands it to the connection', () => {
    expect(validateConfig(YAML.parse(full)).profiles.p!.lint).toEqual({
      ignore: ['causation-dangling'],
      severity: { 'schema-less-payload': 'warning' },
      facts: ['OrderSnapshot'],
      commands: ['PaymentRequest'],
      skew: '2m',
      late: '6h',
      topics: { 'legacy.*': { ignore: ['key-not-aggregate'], severity: { 'version-drift': 'info' }, facts: ['Shipping'] } },
    })
    writeFileSync(cfg, full)
    expect(resolveConnection({ profile: 'p', timeoutMs: 1000 }, { EVT_CONFIG: cfg }).lint?.skew).toBe('2m')
  })

  it.each([
    ['ignore: [no-such-rule]', 'lint.ignore[0] must be one of command-on-event-topic, event-type-not-past-tense, key-not-aggregate, aggregate-split, missing-envelope-field, duplicate-event-id, occurred-after-append, schema-less-payload, version-drift, causation-dangling, dlq-without-origin (got the string "no-such-rule")'],
    ['severity: { version-drift: fatal }', 'lint.severity.version-drift must be one of error, warning, info (got the string "fatal")'],
    ['severity: { no-such-rule: info }', 'unknown key "lint.severity.no-such-rule"'],
    ['ignores: [version-drift]', 'unknown key "lint.ignores"'],
    ['facts: OrderSnapshot', 'lint.facts must be a list (got the string "OrderSnapshot")'],
    ['topics: { "a.*": { skew: 1m } }', 'unknown key "lint.topics.a.*.skew"'],
  ])('lint: { %s } → usage error', (entry, message) => {
    expect(problem(`profiles:\n  p:\n    lint: { ${entry} }\n`).message).toBe(`cfg.yaml: profile "p": ${message}`)
  })
})
