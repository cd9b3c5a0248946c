/**
 * Connection profiles: a YAML file in the XDG config dir, plus env and flags.
 *
 * File: `$EVT_CONFIG`, else `$XDG_CONFIG_HOME/evt/config.yaml`, else `~/.config/evt/config.yaml`.
 *
 * ```yaml
 * default: local
 * profiles:
 *   local:
 *     brokers: [127.0.0.1:9092]
 *     registry: { url: http://127.0.0.1:8081/apis/ccompat/v7 }
 *   prod:
 *     brokers: [b1.example.com:9093, b2.example.com:9093]
 *     clientId: evt-alice
 *     tls: { ca: /etc/kafka/ca.pem, cert: ~/.kafka/client.pem, key: ~/.kafka/client.key, passphrase: "${KEY_PASSPHRASE}" }
 *     sasl: { mechanism: scram-sha-512, username: alice, password: "${PROD_KAFKA_PASSWORD}" }
 *     registry: { url: https://registry.example.com, username: alice, password: "${PROD_REGISTRY_PASSWORD}" }
 * ```
 *
 * The file is checked against a JSON Schema (./schema.ts): booleans are YAML booleans, strings
 * are strings, unknown keys are errors. Any string value but `tokenCommand` may reference an
 * environment variable as `${NAME}` (quoted inside `{ … }`, where YAML reads braces as a
 * mapping); it is expanded when the profile is used, stays a string, and an unset variable is a
 * usage error naming it. `sasl.mechanism` is one of plain, scram-sha-256, scram-sha-512,
 * oauthbearer (with `tokenCommand`, an argv list or a command line run without a shell, whose
 * stdout is a bearer token: see ./token-command.ts).
 */
import type { LintProfile } from '../lint/settings.ts'
import { readFileSync, writeFileSync, existsSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createRequire } from 'node:module'
import type YamlModule from 'yaml'
import type { EnvelopeConfig } from '../envelope/index.ts'
import { EvtError, usageError, notFoundError } from '../errors.ts'
import { REDACTED, redact, registerSecret } from '../redact.ts'
import { schemaProblem } from './schema.ts'
import { tokenCommandArgv } from './token-command.ts'
import { makeDirs } from '../util/fs.ts'

const require = createRequire(import.meta.url)
let yamlModule: typeof YamlModule | undefined
/** The yaml package, loaded when a config file is read or written (not at start-up). */
const yaml = (): typeof YamlModule => (yamlModule ??= require('yaml') as typeof YamlModule)

/** TLS settings of a profile; paths may start with `~/`. */
export interface TlsConfig {
  /** PEM file of the CA(s) that signed the broker certificates. */
  ca?: string
  /** PEM client certificate (mutual TLS). */
  cert?: string
  /** PEM client private key (mutual TLS). */
  key?: string
  /** Passphrase of an encrypted `key` (PKCS#8 or traditional PEM encryption); `${VAR}` recommended. */
  passphrase?: string
  /** Accept any broker certificate. For test clusters only. */
  skipVerify?: boolean
}

/** SASL settings of a profile. */
export interface SaslConfig {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'oauthbearer'
  username?: string
  password?: string
  /**
   * For oauthbearer: the command whose stdout (trimmed) is the bearer token, as an argv list or a
   * command line split into words without a shell (src/config/token-command.ts). Not expanded.
   */
  tokenCommand?: string | string[]
}

/** Schema registry settings of a profile (Confluent-compatible API). */
export interface RegistryConfig {
  url: string
  username?: string
  password?: string
}

/** One profile as written in the config file. */
export interface ProfileConfig {
  brokers?: string[] | string
  clientId?: string
  tls?: TlsConfig | boolean
  sasl?: SaslConfig
  registry?: RegistryConfig | string
  /** Where trace finds ids in this estate's records: extractor order, header names, JSON paths (src/envelope). */
  envelope?: EnvelopeConfig
  /**
   * trace settings: `stallAfter`, a duration (`5m`, `90s`): the default of `trace --stall-after`;
   * `index`, the trace index to use (`local`, `local:<name>` or a postgres:// URL): the default of `trace --index`.
   */
  trace?: { stallAfter?: string; index?: string }
  /** `evt lint` settings: rules off, severities, names that count as facts or commands, tolerances, per topic glob (src/lint/settings.ts). */
  lint?: LintProfile
  /**
   * More topics the write guard protects like the platform's own (src/kafka/internal-topics.ts):
   * names or globs (`*`, `?`, `[a-z]`, `{a,b}`), e.g. `["audit.*", "billing.ledger"]`.
   */
  protectedTopics?: string[]
  /** Where `evt outbox` finds the transactional outbox (src/outbox/): database, table, column names, topics. */
  outbox?: OutboxConfig
}

/**
 * The transactional outbox of one estate. Defaults follow Debezium's outbox event router: table
 * `outbox`, columns `id`, `aggregatetype`, `aggregateid`, `type`, topics `outbox.event.<aggregatetype>`;
 * the time a row was written comes from column `created_at` (Debezium's layout has none: name yours).
 */
export interface OutboxConfig {
  /** PostgreSQL URL, e.g. `postgres://evt@db:5432/shop` (a password is better given as `${PGPASSWORD}`). */
  db?: string
  table?: string
  /** Topics the relay writes to: every topic starting with this. */
  topicPrefix?: string
  columns?: { id?: string; aggregateType?: string; aggregateId?: string; type?: string; timestamp?: string }
}

/** The whole config file. */
export interface ConfigFile {
  default?: string
  profiles: Record<string, ProfileConfig>
}

/** Where the config file lives: `$EVT_CONFIG` > `$XDG_CONFIG_HOME/evt/config.yaml` > `~/.config/evt/config.yaml`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EVT_CONFIG) return resolve(env.EVT_CONFIG)
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config')
  return join(base, 'evt', 'config.yaml')
}

/** Receives one warning (without the `evt: warning: ` prefix). */
export type WarningSink = (message: string) => void

/** The default {@link WarningSink}: `evt: warning: <message>` on stderr, redacted. */
export const warnOnStderr: WarningSink = (message) => {
  process.stderr.write(`evt: warning: ${redact(message)}\n`)
}

/**
 * Reads and validates the config file. A missing file is an empty config. Registers the file's
 * literal secrets for redaction, and warns (through `warn`) when the file is readable by other
 * users and holds literal passwords.
 * @throws EvtError (usage, exit 2) when the file is not valid YAML or does not fit the schema.
 */
export function loadConfig(path: string = configPath(), warn: WarningSink = warnOnStderr): ConfigFile {
  if (!existsSync(path)) return { profiles: {} }
  let parsed: unknown
  try {
    parsed = yaml().parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw usageError(`config file ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, 'fix the file, or point EVT_CONFIG at another one')
  }
  const config = validateConfig(parsed ?? {}, path)
  const literal = literalSecrets(config)
  for (const s of literal) registerSecret(s)
  if (literal.length > 0 && process.platform !== 'win32' && (statSync(path).mode & 0o004) !== 0) {
    warn(`${path} holds passwords and is readable by every user of this machine: run chmod 600 ${path} (or reference the passwords as \${VAR})`)
  }
  return config
}

/** A whole-value `${NAME}` reference. */
const ENV_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/

/** The password of a URL's credentials, if it has one (credentials end at the last `@`). */
function urlPassword(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^\s/?#\\]*)@/i.exec(url)
  if (!m) return undefined
  const colon = m[1].indexOf(':')
  return colon >= 0 ? m[1].slice(colon + 1) : m[1]
}

/**
 * The secrets written literally in a config (passwords and URL passwords that are not exactly
 * a `${VAR}` reference).
 */
export function literalSecrets(config: ConfigFile): string[] {
  const found: string[] = []
  const add = (v: string | undefined) => {
    if (v && !ENV_REF.test(v)) found.push(v)
  }
  for (const p of Object.values(config.profiles)) {
    add(p.sasl?.password)
    if (p.tls && typeof p.tls === 'object') add(p.tls.passphrase)
    if (typeof p.registry === 'string') add(urlPassword(p.registry))
    else if (p.registry) {
      add(p.registry.password)
      add(urlPassword(p.registry.url))
    }
  }
  return found
}

/**
 * Checks a parsed config file against the schema (./schema.ts), then what the schema does not
 * say: SASL credentials per mechanism, and a `tokenCommand` that splits into words.
 * @throws EvtError (usage, exit 2) naming the file, the profile and the first wrong field.
 */
export function validateConfig(raw: unknown, path = 'config'): ConfigFile {
  const bad = (what: string) => usageError(`${path}: ${what}`, 'see README.md, "Connection and profiles", for the file format')
  const problem = schemaProblem(raw)
  if (problem) throw bad(problem)
  const obj = raw as { default?: string; profiles?: Record<string, ProfileConfig> | null }
  const profiles = obj.profiles ?? {}
  for (const [name, prof] of Object.entries(profiles)) {
    const sasl = prof.sasl
    if (sasl !== undefined) {
      const mech = sasl.mechanism
      if (mech === 'oauthbearer') {
        if (sasl.tokenCommand === undefined) throw bad(`profile "${name}": sasl.tokenCommand is needed for oauthbearer`)
        try {
          tokenCommandArgv(sasl.tokenCommand)
        } catch (err) {
          throw bad(`profile "${name}": sasl.tokenCommand: ${(err as Error).message}`)
        }
      } else if (!sasl.username || sasl.password === undefined) throw bad(`profile "${name}": sasl.username and sasl.password are needed for ${mech}`)
    }
  }
  return { default: obj.default, profiles }
}

/**
 * Picks a profile by name (`--profile` / EVT_PROFILE), else the file's default, else none.
 * @throws EvtError (not-found, exit 4) when a named profile does not exist.
 */
export function selectProfile(config: ConfigFile, name: string | undefined, path = configPath()): { name?: string; profile?: ProfileConfig } {
  const wanted = name ?? config.default
  if (!wanted) return {}
  const profile = config.profiles[wanted]
  if (!profile) {
    const known = Object.keys(config.profiles)
    throw notFoundError(`profile "${wanted}" is not in ${path}`, known.length ? `known profiles: ${known.join(', ')}` : 'create it in the config file (see README.md, "Connection and profiles")')
  }
  return { name: wanted, profile }
}

/**
 * Expands `${NAME}` references to environment variables in a string.
 * @throws EvtError (usage) when a referenced variable is not set.
 */
export function expandEnv(value: string, env: NodeJS.ProcessEnv = process.env, where = 'profile'): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name]
    if (v === undefined) throw usageError(`${where} references \${${name}}, which is not set`, `export ${name}=… before running evt`)
    return v
  })
}

/** Expands `~/` at the start of a path. */
export function expandHome(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path
}

const SECRET_KEYS = new Set(['password', 'passphrase', 'token', 'key', 'tokenCommand'])

/**
 * A copy of a profile safe to print: secrets replaced by `<redacted>` (or `<from $NAME>` when
 * the value is an env reference), `tls.key` shown as a path only, a `tokenCommand` (list or
 * string) replaced whole, and every other string passed through {@link redact} (URL
 * credentials, registered secrets).
 */
export function redactProfile(profile: ProfileConfig): Record<string, unknown> {
  const walk = (v: unknown, key?: string): unknown => {
    if (key && SECRET_KEYS.has(key) && v !== null && v !== undefined) {
      if (key === 'key' && typeof v === 'string') return redact(v) // a file path, not the key itself
      const ref = typeof v === 'string' ? ENV_REF.exec(v) : null
      return ref ? `<from $${ref[1]}>` : REDACTED // whatever its YAML type
    }
    if (Array.isArray(v)) return v.map((x) => walk(x))
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]))
    return typeof v === 'string' ? redact(v) : v
  }
  return walk(profile) as Record<string, unknown>
}

/**
 * Sets the default profile in the config file, keeping its comments and layout.
 * @throws EvtError (not-found) when the profile does not exist.
 */
export function setDefaultProfile(name: string, path: string = configPath(), warn: WarningSink = warnOnStderr): void {
  const config = loadConfig(path, warn)
  if (!config.profiles[name]) selectProfile(config, name, path)
  const text = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const YAML = yaml()
  const doc = YAML.parseDocument(text)
  const value = YAML.stringify(name).trimEnd()
  const current = doc.get('default', true)
  // edit the text in place: re-serialising the document would reflow flow maps and comment spacing
  let out: string
  if (YAML.isScalar(current) && current.range) out = text.slice(0, current.range[0]) + value + text.slice(current.range[1])
  else if (YAML.isMap(doc.contents) && !doc.contents.flow && doc.contents.range) out = `${text.slice(0, doc.contents.range[0])}default: ${value}\n${text.slice(doc.contents.range[0])}`
  else {
    doc.set('default', name)
    out = String(doc)
  }
  makeDirs(dirname(path))
  writeFileSync(path, out)
}

/** Reads a file named in a profile (CA, cert, key). @throws EvtError (usage) when unreadable. */
export function readProfileFile(path: string, what: string): string {
  const full = expandHome(path)
  try {
    return readFileSync(full, 'utf8')
  } catch (err) {
    throw new EvtError('usage', `cannot read ${what} file ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { hint: 'fix the path in the profile (evt profiles show)' })
  }
}

/** One profile as `profiles list` shows it (and prints with --json: docs/schemas/profiles-list.schema.json). */
export interface ProfileRow {
  name: string
  default: boolean
  /** Comma-separated, redacted; empty when the profile names none. */
  brokers: string
  /** The registry URL, redacted; empty when none. */
  registry: string
  /** The SASL mechanism; empty without SASL. */
  sasl: string
  tls: boolean
}

/** The rows of `profiles list`, in file order, credentials in URLs redacted. */
export function profileRows(config: { default?: string; profiles: Record<string, ProfileConfig> }): ProfileRow[] {
  return Object.entries(config.profiles).map(([name, p]) => ({
    name,
    default: name === config.default,
    brokers: redact(Array.isArray(p.brokers) ? p.brokers.join(',') : (p.brokers ?? '')),
    registry: redact(typeof p.registry === 'string' ? p.registry : (p.registry?.url ?? '')),
    sasl: p.sasl?.mechanism ?? '',
    tls: Boolean(p.tls),
  }))
}
