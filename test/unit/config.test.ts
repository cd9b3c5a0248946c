import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Parser } from '@oclif/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_BROKERS, parseBrokers, resolveConnection, type ConnectionInput } from '../../src/config/connection.ts'
import { configPath, expandEnv, loadConfig, readProfileFile, redactProfile, selectProfile, setDefaultProfile, validateConfig, type ProfileConfig } from '../../src/config/profiles.ts'
import { EvtError } from '../../src/errors.ts'
import { connectionFlags } from '../../src/flags.ts'

let dir: string
let cfg: string
/** The env handed to the functions under test: never the real home, never process.env. */
let env: NodeJS.ProcessEnv

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'evt-config-test-'))
  cfg = join(dir, 'config.yaml')
  env = { EVT_CONFIG: cfg }
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
  vi.unstubAllEnvs()
})

function errorOf(fn: () => unknown): EvtError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(EvtError)
    return err as EvtError
  }
  throw new Error('expected an EvtError, nothing was thrown')
}

const input = (over: Partial<ConnectionInput> = {}): ConnectionInput => ({ timeoutMs: 10_000, ...over })

const TWO_PROFILES = `# evt profiles
default: local # the one used without --profile
profiles:
  local:
    brokers: [127.0.0.1:19092]
    registry: { url: http://127.0.0.1:8081/apis/ccompat/v7 }
  prod:
    # production, read-only please
    brokers: b1.example.com:9093, b2.example.com:9093
    clientId: evt-alice
    sasl:
      mechanism: SCRAM-SHA-512
      username: alice
      password: \${PROD_KAFKA_PASSWORD}   # from the environment
    registry: { url: https://registry.example.com, username: alice, password: "\${PROD_REGISTRY_PASSWORD}" }
`

describe('configPath', () => {
  it('EVT_CONFIG > XDG_CONFIG_HOME > ~/.config', () => {
    expect(configPath({ EVT_CONFIG: cfg, XDG_CONFIG_HOME: '/x' })).toBe(cfg)
    expect(configPath({ EVT_CONFIG: 'rel/c.yaml' })).toBe(resolve('rel/c.yaml'))
    expect(configPath({ XDG_CONFIG_HOME: '/xdg' })).toBe('/xdg/evt/config.yaml')
    expect(configPath({}).endsWith(join('.config', 'evt', 'config.yaml'))).toBe(true)
  })
})

describe('loadConfig', () => {
  it('a missing file is an empty config', () => {
    expect(loadConfig(join(dir, 'nope.yaml'))).toEqual({ profiles: {} })
  })

  it('an empty file is an empty config', () => {
    writeFileSync(cfg, '')
    expect(loadConfig(cfg)).toEqual({ default: undefined, profiles: {} })
  })

  it('reads profiles and normalises the SASL mechanism to lower case', () => {
    writeFileSync(cfg, TWO_PROFILES)
    const c = loadConfig(cfg)
    expect(c.default).toBe('local')
    expect(Object.keys(c.profiles)).toEqual(['local', 'prod'])
    expect(c.profiles.prod.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'alice', password: '${PROD_KAFKA_PASSWORD}' })
  })

  it('invalid YAML → usage error naming the file', () => {
    writeFileSync(cfg, 'profiles: [unclosed\n')
    const err = errorOf(() => loadConfig(cfg))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message.startsWith(`config file ${cfg} is not valid YAML: `)).toBe(true)
    expect(err.hint).toBe('fix the file, or point EVT_CONFIG at another one')
  })
})

describe('validateConfig', () => {
  it.each<[unknown, string]>([
    [[], 'expected a mapping with "profiles"'],
    ['text', 'expected a mapping with "profiles"'],
    [{ profiles: [] }, '"profiles" must be a mapping of name → profile'],
    [{ profiles: 'x' }, '"profiles" must be a mapping of name → profile'],
    [{ profiles: { a: null } }, 'profile "a" must be a mapping'],
    [{ profiles: { a: 'x' } }, 'profile "a" must be a mapping'],
    [{ profiles: { a: ['b:1'] } }, 'profile "a" must be a mapping'],
    [{ profiles: { a: { brokers: 5 } } }, 'profile "a": brokers must be a list or a comma-separated string'],
    [{ profiles: { a: { sasl: null } } }, 'profile "a": sasl must be a mapping with a mechanism'],
    [{ profiles: { a: { sasl: { mechanism: 'gssapi' } } } }, 'profile "a": sasl.mechanism must be plain, scram-sha-256, scram-sha-512 or oauthbearer (got "gssapi")'],
    [{ profiles: { a: { sasl: { username: 'u', password: 'p' } } } }, 'profile "a": sasl.mechanism must be plain, scram-sha-256, scram-sha-512 or oauthbearer (got "undefined")'],
    [{ profiles: { a: { sasl: { mechanism: 'plain', username: 'u' } } } }, 'profile "a": sasl.username and sasl.password are needed for plain'],
    [{ profiles: { a: { sasl: { mechanism: 'scram-sha-256', password: 'p' } } } }, 'profile "a": sasl.username and sasl.password are needed for scram-sha-256'],
    [{ profiles: { a: { sasl: { mechanism: 'oauthbearer' } } } }, 'profile "a": sasl.tokenCommand is needed for oauthbearer'],
    [{ default: 3, profiles: {} }, '"default" must be a profile name'],
  ])('%j → usage error: %s', (raw, what) => {
    const err = errorOf(() => validateConfig(raw, 'cfg.yaml'))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`cfg.yaml: ${what}`)
    expect(err.hint).toBe('see README.md, "Connection and profiles", for the file format')
  })

  it('accepts a valid config; profiles may be missing or null', () => {
    expect(validateConfig({ default: 'a', profiles: { a: { brokers: 'x:1', sasl: { mechanism: 'plain', username: 'u', password: 'p' } } } })).toEqual({
      default: 'a',
      profiles: { a: { brokers: 'x:1', sasl: { mechanism: 'plain', username: 'u', password: 'p' } } },
    })
    expect(validateConfig({})).toEqual({ default: undefined, profiles: {} })
    expect(validateConfig({ profiles: null })).toEqual({ default: undefined, profiles: {} })
  })
})

describe('selectProfile', () => {
  const config = { default: 'local', profiles: { local: { brokers: 'a:1' }, prod: { brokers: 'b:2' } } }

  it('by name, else the default, else none', () => {
    expect(selectProfile(config, 'prod', cfg)).toEqual({ name: 'prod', profile: { brokers: 'b:2' } })
    expect(selectProfile(config, undefined, cfg)).toEqual({ name: 'local', profile: { brokers: 'a:1' } })
    expect(selectProfile({ profiles: {} }, undefined, cfg)).toEqual({})
  })

  it('an unknown profile → not-found (exit 4) listing the known ones', () => {
    const err = errorOf(() => selectProfile(config, 'staging', cfg))
    expect(err.kind).toBe('not-found')
    expect(err.exitCode).toBe(4)
    expect(err.message).toBe(`profile "staging" is not in ${cfg}`)
    expect(err.hint).toBe('known profiles: local, prod')
  })

  it('an unknown profile with no profiles at all → hint to create it', () => {
    const err = errorOf(() => selectProfile({ profiles: {} }, 'x', cfg))
    expect(err.hint).toBe('create it in the config file (see README.md, "Connection and profiles")')
  })
})

describe('expandEnv', () => {
  it('expands ${VAR} references, several per string', () => {
    expect(expandEnv('${A}-${B}:x', { A: 'one', B: '' })).toBe('one-:x')
    expect(expandEnv('no refs, $A, {A}', {})).toBe('no refs, $A, {A}')
  })

  it('an unset variable → usage error naming it', () => {
    const err = errorOf(() => expandEnv('${SET}${NOT_SET}', { SET: 'x' }, 'profile "prod"'))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe('profile "prod" references ${NOT_SET}, which is not set')
    expect(err.hint).toBe('export NOT_SET=… before running evt')
  })
})

describe('resolveConnection: precedence flag > env > profile > default', () => {
  it('default: no flag, no env, no config file → 127.0.0.1:9092, clientId evt', () => {
    const c = resolveConnection(input(), env)
    expect(c).toEqual({ profile: undefined, brokers: DEFAULT_BROKERS, clientId: 'evt', timeoutMs: 10_000, ssl: undefined, sasl: undefined, registry: undefined, verbose: false })
    expect(DEFAULT_BROKERS).toEqual(['127.0.0.1:9092'])
  })

  it('profile (the file\'s default) beats the default', () => {
    writeFileSync(cfg, TWO_PROFILES)
    const c = resolveConnection(input(), env)
    expect(c.profile).toBe('local')
    expect(c.brokers).toEqual(['127.0.0.1:19092'])
    expect(c.registry).toEqual({ url: 'http://127.0.0.1:8081/apis/ccompat/v7', username: undefined, password: undefined })
  })

  it('flag/env brokers and registry beat the profile', () => {
    writeFileSync(cfg, TWO_PROFILES)
    const c = resolveConnection(input({ brokers: 'x:1,y:2', registry: 'http://r:1' }), env)
    expect(c.brokers).toEqual(['x:1', 'y:2'])
    expect(c.registry).toEqual({ url: 'http://r:1' })
  })

  it.each(['notaurl', 'ftp://r:1', 'http://', '127.0.0.1:8081'])('a registry URL that is not http(s) (%j) is a usage error naming where it came from', (registry) => {
    const err = errorOf(() => resolveConnection(input({ registry }), env))
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`--registry (or EVT_SCHEMA_REGISTRY_URL): "${registry}" is not an http(s) URL`)
    expect(err.hint).toBe('give the schema registry\'s base URL, e.g. http://127.0.0.1:8081')
    writeFileSync(cfg, `profiles:\n  p:\n    registry: ${JSON.stringify(registry)}\n`)
    expect(errorOf(() => resolveConnection(input({ profile: 'p' }), env)).message).toBe(`profile "p": registry: "${registry}" is not an http(s) URL`)
  })

  it.each(['', '  '])('an empty -b / EVT_BROKERS (%j) is a usage error, not a fall-back to the profile or the default', (brokers) => {
    writeFileSync(cfg, TWO_PROFILES)
    const err = errorOf(() => resolveConnection(input({ brokers }), env))
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe('no brokers given: -b/--brokers (or EVT_BROKERS) is empty')
    expect(errorOf(() => resolveConnection(input(), { ...env, EVT_BROKERS: brokers })).message).toBe('no brokers given: -b/--brokers (or EVT_BROKERS) is empty')
  })

  it('a flag beats its EVT_* env var, which beats the profile (through the shared oclif flags)', async () => {
    writeFileSync(cfg, TWO_PROFILES)
    vi.stubEnv('EVT_BROKERS', 'from-env:1')
    vi.stubEnv('EVT_PROFILE', undefined)
    vi.stubEnv('EVT_SCHEMA_REGISTRY_URL', undefined)
    const viaFlag = await Parser.parse(['-b', 'from-flag:1'], { flags: connectionFlags })
    expect(resolveConnection(input({ brokers: viaFlag.flags.brokers }), env).brokers).toEqual(['from-flag:1'])
    const viaEnv = await Parser.parse([], { flags: connectionFlags })
    expect(resolveConnection(input({ brokers: viaEnv.flags.brokers }), env).brokers).toEqual(['from-env:1'])
    vi.stubEnv('EVT_BROKERS', undefined)
    const none = await Parser.parse([], { flags: connectionFlags })
    expect(none.flags.brokers).toBeUndefined()
    expect(resolveConnection(input({ brokers: none.flags.brokers }), env).brokers).toEqual(['127.0.0.1:19092'])
  })

  it('--profile picks a profile; ${VAR}s expand from the env parameter', () => {
    writeFileSync(cfg, TWO_PROFILES)
    const c = resolveConnection(input({ profile: 'prod', verbose: true }), { ...env, PROD_KAFKA_PASSWORD: 'k-secret', PROD_REGISTRY_PASSWORD: 'r-secret' })
    expect(c).toEqual({
      profile: 'prod',
      brokers: ['b1.example.com:9093', 'b2.example.com:9093'],
      clientId: 'evt-alice',
      timeoutMs: 10_000,
      ssl: undefined,
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'k-secret' },
      registry: { url: 'https://registry.example.com', username: 'alice', password: 'r-secret' },
      verbose: true,
    })
  })

  it('an unset ${VAR} → usage error naming the variable and the profile', () => {
    writeFileSync(cfg, TWO_PROFILES)
    const err = errorOf(() => resolveConnection(input({ profile: 'prod' }), { ...env, PROD_REGISTRY_PASSWORD: 'r' }))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe('profile "prod" references ${PROD_KAFKA_PASSWORD}, which is not set')
  })

  it('${VAR} in brokers expands', () => {
    writeFileSync(cfg, 'profiles:\n  p:\n    brokers: ["${KHOST}:9092", "b:9093"]\n')
    expect(resolveConnection(input({ profile: 'p' }), { ...env, KHOST: 'k1' }).brokers).toEqual(['k1:9092', 'b:9093'])
  })

  it('an unknown --profile → not-found listing known profiles', () => {
    writeFileSync(cfg, TWO_PROFILES)
    const err = errorOf(() => resolveConnection(input({ profile: 'staging', brokers: 'a:1', registry: 'http://r' }), env))
    expect(err.kind).toBe('not-found')
    expect(err.exitCode).toBe(4)
    expect(err.message).toBe(`profile "staging" is not in ${cfg}`)
    expect(err.hint).toBe('known profiles: local, prod')
  })

  it('registry as a plain string', () => {
    writeFileSync(cfg, 'profiles:\n  p:\n    registry: http://reg:8081\n')
    expect(resolveConnection(input({ profile: 'p' }), env).registry).toEqual({ url: 'http://reg:8081' })
  })

  it('TLS files are read; skipVerify turns off verification; tls: true uses system CAs', () => {
    const ca = join(dir, 'ca.pem')
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n')
    writeFileSync(cfg, `profiles:\n  t:\n    tls: { ca: "${ca}", skipVerify: true }\n  s:\n    tls: true\n`)
    expect(resolveConnection(input({ profile: 't' }), env).ssl).toEqual({ ca: [readFileSync(ca, 'utf8')], cert: undefined, key: undefined, rejectUnauthorized: false })
    expect(resolveConnection(input({ profile: 's' }), env).ssl).toBe(true)
  })

  it('an unreadable TLS file → usage error naming the file', () => {
    const missing = join(dir, 'missing-ca.pem')
    writeFileSync(cfg, `profiles:\n  t:\n    tls: { ca: "${missing}" }\n`)
    const err = errorOf(() => resolveConnection(input({ profile: 't' }), env))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`cannot read tls.ca file ${missing}: ENOENT`)
    expect(err.hint).toBe('fix the path in the profile (evt profiles show)')
  })

  it('a TLS path that is a directory is unreadable too', () => {
    const err = errorOf(() => readProfileFile(dir, 'tls.cert'))
    expect(err.kind).toBe('usage')
    expect(err.message).toBe(`cannot read tls.cert file ${dir}: EISDIR`)
  })

  it('oauthbearer runs tokenCommand for the token', async () => {
    writeFileSync(cfg, 'profiles:\n  o:\n    sasl: { mechanism: oauthbearer, tokenCommand: "printf \' tok-123 \'" }\n')
    const c = resolveConnection(input({ profile: 'o' }), env)
    expect(c.sasl?.mechanism).toBe('oauthbearer')
    const provider = (c.sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider
    await expect(provider()).resolves.toEqual({ value: 'tok-123' })
  })

  it('a failing tokenCommand → auth error (exit 3), before anything connects', () => {
    writeFileSync(cfg, 'profiles:\n  o:\n    sasl: { mechanism: oauthbearer, tokenCommand: [sh, -c, "exit 3"] }\n')
    const err = errorOf(() => resolveConnection(input({ profile: 'o' }), env))
    expect(err).toMatchObject({ name: 'EvtError', kind: 'auth', exitCode: 3 })
    expect(err.message).toBe('sasl.tokenCommand (sh …) exited with code 3')
  })
})

describe('redactProfile', () => {
  const profile: ProfileConfig = {
    brokers: ['b1:9093'],
    clientId: 'evt-alice',
    tls: { ca: '/etc/ca.pem', cert: '~/.kafka/c.pem', key: '~/.kafka/c.key' },
    sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'hunter2-plain' },
    registry: { url: 'https://bob:reg-pass-in-url@registry.example.com/x', username: 'bob', password: '${REG_PASSWORD}' },
  }

  it('replaces secrets; shows env references by name; keeps tls.key as a path', () => {
    expect(redactProfile(profile)).toEqual({
      brokers: ['b1:9093'],
      clientId: 'evt-alice',
      tls: { ca: '/etc/ca.pem', cert: '~/.kafka/c.pem', key: '~/.kafka/c.key' },
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: '<redacted>' },
      registry: { url: 'https://bob:<redacted>@registry.example.com/x', username: 'bob', password: '<from $REG_PASSWORD>' },
    })
  })

  it('never shows a password or token, whatever its YAML type', () => {
    const secrets = ['hunter2-plain', 'reg-pass-in-url', '123456', 'tok-secret', 'cmd-secret']
    // not through validateConfig: the schema refuses a numeric password and an unknown key, but
    // redaction must not rely on that
    const raw = {
      profiles: {
        a: { ...profile, sasl: { mechanism: 'plain', username: 'alice', password: 123456 } },
        b: { sasl: { mechanism: 'oauthbearer', tokenCommand: 'vault read cmd-secret' }, registry: 'https://u:tok-secret@r.example.com', token: 'tok-secret' },
      },
    } as unknown as { profiles: Record<string, ProfileConfig> }
    for (const p of Object.values(raw.profiles)) {
      const shown = JSON.stringify(redactProfile(p))
      for (const s of secrets) expect(shown).not.toContain(s)
    }
    expect(redactProfile(raw.profiles.a).sasl).toEqual({ mechanism: 'plain', username: 'alice', password: '<redacted>' })
    expect(redactProfile(raw.profiles.b)).toEqual({ sasl: { mechanism: 'oauthbearer', tokenCommand: '<redacted>' }, registry: 'https://u:<redacted>@r.example.com', token: '<redacted>' })
  })

  it('a partial reference is still redacted', () => {
    expect(redactProfile({ sasl: { mechanism: 'plain', username: 'u', password: 'pre-${X}' } }).sasl).toEqual({ mechanism: 'plain', username: 'u', password: '<redacted>' })
  })

  it('does not change the profile it is given', () => {
    const copy = structuredClone(profile)
    redactProfile(profile)
    expect(profile).toEqual(copy)
  })
})

describe('setDefaultProfile', () => {
  it('sets default and keeps comments and layout', () => {
    writeFileSync(cfg, TWO_PROFILES)
    setDefaultProfile('prod', cfg)
    const text = readFileSync(cfg, 'utf8')
    expect(text).toContain('# evt profiles')
    expect(text).toContain('# the one used without --profile')
    expect(text).toContain('# production, read-only please')
    expect(text).toContain('password: ${PROD_KAFKA_PASSWORD}')
    expect(text).toMatch(/^default: prod # the one used without --profile$/m)
    expect(text).toBe(TWO_PROFILES.replace('default: local #', 'default: prod #'))
    expect(loadConfig(cfg).default).toBe('prod')
  })

  it('adds default to a file without one', () => {
    writeFileSync(cfg, '# mine\nprofiles:\n  a: { brokers: "x:1" }\n')
    setDefaultProfile('a', cfg)
    const text = readFileSync(cfg, 'utf8')
    expect(text).toBe('# mine\ndefault: a\nprofiles:\n  a: { brokers: "x:1" }\n')
    expect(loadConfig(cfg)).toEqual({ default: 'a', profiles: { a: { brokers: 'x:1' } } })
  })

  it('replaces an existing default in place, quoting a name YAML would read as a number', () => {
    writeFileSync(cfg, 'default: "a"   # keep me\nprofiles:\n  a: {}\n  "123": { brokers: [ x:1 ] }\n')
    setDefaultProfile('123', cfg)
    expect(readFileSync(cfg, 'utf8')).toBe('default: "123"   # keep me\nprofiles:\n  a: {}\n  "123": { brokers: [ x:1 ] }\n')
    expect(loadConfig(cfg).default).toBe('123')
  })

  it('an unknown profile → not-found, file unchanged', () => {
    writeFileSync(cfg, TWO_PROFILES)
    const err = errorOf(() => setDefaultProfile('nope', cfg))
    expect(err.kind).toBe('not-found')
    expect(err.hint).toBe('known profiles: local, prod')
    expect(readFileSync(cfg, 'utf8')).toBe(TWO_PROFILES)
  })
})

describe('parseBrokers', () => {
  it.each<[string | string[], string[]]>([
    ['a:1', ['a:1']],
    ['a:9092, b.example.com:9093 ,', ['a:9092', 'b.example.com:9093']],
    [['x:9092', ' y:9093 '], ['x:9092', 'y:9093']],
    ['10.0.0.1:9092', ['10.0.0.1:9092']],
    ['[::1]:9092', ['[::1]:9092']],
    ['h:65535', ['h:65535']],
  ])('%j → %j', (value, list) => {
    expect(parseBrokers(value)).toEqual(list)
  })

  it.each(['', ' , ', []])('%j → no brokers given', (value) => {
    const err = errorOf(() => parseBrokers(value as string))
    expect(err.kind).toBe('usage')
    expect(err.message).toBe('no brokers given')
  })

  it.each(['localhost', 'a:', ':9092', 'PLAINTEXT://a:9092', 'a b:1', 'a:port', 'a:123456', 'a:0', 'a:65536', '::1:9092'])('%j is not host:port', (b) => {
    const err = errorOf(() => parseBrokers(`ok:1,${b}`))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`broker "${b}" is not host:port`)
    expect(err.hint).toBe('pass -b host:port, e.g. -b 127.0.0.1:9092')
  })
})

describe('hints that name a README section', () => {
  it('name one the README has', async () => {
    const { readFileSync } = await import('node:fs')
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    expect(readme).toMatch(/^## Connection and profiles$/m)
  })
})
