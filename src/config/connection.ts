/**
 * Resolves where and how to connect: flag > env > profile > default.
 * (oclif already merges each flag with its EVT_* env var, flag first.)
 */
import type { LintProfile } from '../lint/settings.ts'
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import type { EnvelopeConfig } from '../envelope/index.ts'
import { usageError } from '../errors.ts'
import { redact, registerSecret, registerUrlSecret } from '../redact.ts'
import { parseDuration } from '../time.ts'
import { configPath, expandEnv, loadConfig, readProfileFile, selectProfile, warnOnStderr, type OutboxConfig, type ProfileConfig, type WarningSink } from './profiles.ts'
import { fetchToken, fetchTokenSync, registerCommandSecrets, tokenCommandArgv } from './token-command.ts'

/** The default broker when nothing else is given. */
export const DEFAULT_BROKERS = ['127.0.0.1:9092']

/** SASL options in the shape kafkajs takes. */
export type SaslOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; oauthBearerProvider: () => Promise<{ value: string }> }

/**
 * TLS options in the shape kafkajs (node:tls) takes, or `true` for system CAs: PEM texts (`ca`,
 * the client `cert` and its `key`), the key's `passphrase` when it is encrypted.
 */
export type SslOptions = true | { ca?: string[]; cert?: string; key?: string; passphrase?: string; rejectUnauthorized?: boolean }

/** Everything needed to talk to a cluster (and its registry). */
export interface Connection {
  /** Profile used, if any. */
  profile?: string
  /** host:port list. */
  brokers: string[]
  /**
   * The seeds a client should start from: the brokers that answered the session's probe, fastest
   * first (src/kafka/probe.ts). Undefined = `brokers`. Messages still name `brokers`.
   */
  seedBrokers?: string[]
  clientId: string
  /**
   * Budget for connecting and for each request to a broker, ms: an unreachable or frozen cluster
   * fails after this.
   */
  timeoutMs: number
  ssl?: SslOptions
  sasl?: SaslOptions
  registry?: { url: string; username?: string; password?: string }
  /** Let kafkajs log (to stderr). */
  verbose: boolean
  /** The profile's envelope settings for trace (defaults when absent). */
  envelope?: EnvelopeConfig
  /**
   * The profile's trace settings: `stallAfterMs`, the default of `trace --stall-after` (ms); `index`,
   * the default of `trace --index` (`local`, `local:<name>`, a postgres:// URL).
   */
  trace?: { stallAfterMs?: number; index?: string }
  /** The profile's `lint:` section, as written (resolved by src/lint/settings.ts). */
  lint?: LintProfile
  /** The profile's own protected topics (names or globs), added to the write guard's list. */
  protectedTopics?: string[]
  /** The profile's outbox settings (`evt outbox`), as written. */
  outbox?: OutboxConfig
}

/** What the shared connection flags hand over (already merged with their env vars). */
export interface ConnectionInput {
  brokers?: string
  profile?: string
  registry?: string
  timeoutMs: number
  verbose?: boolean
  /** Where warnings go (a world-readable file with passwords, tls.skipVerify); default stderr. */
  warn?: WarningSink
}

/**
 * Checks a client certificate and key before anything connects, so that a local mistake is a
 * usage error (exit 2) naming the field instead of a failed handshake: `cert` and `key` come
 * together, `key` is a PEM private key that opens (with `passphrase` when it is encrypted), `cert`
 * is a PEM X.509 certificate, and `key` is the private key of `cert`.
 * @throws EvtError (usage) naming the profile and the field.
 */
export function checkClientCertificate(ssl: Exclude<SslOptions, true>, where: string, file: string): void {
  const bad = (what: string, hint: string) => usageError(`${where}: ${what}`, `${hint} (${file})`)
  if (!ssl.cert && !ssl.key) {
    if (ssl.passphrase !== undefined) throw bad('tls.passphrase is set but there is no tls.key', 'set tls.key (and tls.cert), or remove tls.passphrase')
    return
  }
  if (!ssl.cert || !ssl.key) throw bad(`tls.${ssl.cert ? 'cert' : 'key'} is set without tls.${ssl.cert ? 'key' : 'cert'}`, 'a client certificate needs its private key: set both tls.cert and tls.key')
  // PKCS#8 (RFC 5958 EncryptedPrivateKeyInfo) or traditional OpenSSL PEM encryption (RFC 1421 Proc-Type)
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(ssl.key)
  if (encrypted && ssl.passphrase === undefined) throw bad('tls.key is encrypted and there is no tls.passphrase', 'set tls.passphrase, e.g. "${KEY_PASSPHRASE}"')
  let key: KeyObject
  try {
    key = createPrivateKey({ key: ssl.key, format: 'pem', passphrase: ssl.passphrase })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? ''
    if (code === 'ERR_MISSING_PASSPHRASE') throw bad('tls.key is encrypted and there is no tls.passphrase', 'set tls.passphrase, e.g. "${KEY_PASSPHRASE}"')
    if (encrypted) throw bad('tls.key cannot be decrypted with tls.passphrase (wrong passphrase)', 'fix tls.passphrase (or the variable it names)')
    throw bad(`tls.key is not a PEM private key (${code || (err as Error).message})`, 'point tls.key at the PEM file of the client\'s private key')
  }
  let cert: X509Certificate
  try {
    cert = new X509Certificate(ssl.cert)
  } catch (err) {
    throw bad(`tls.cert is not a PEM certificate (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'point tls.cert at the PEM file of the client certificate')
  }
  if (!cert.checkPrivateKey(key)) throw bad('tls.key is not the private key of tls.cert', 'point tls.key and tls.cert at the key and certificate that belong together')
}

/** Splits and checks a broker list (`host:port,host:port`). @throws EvtError (usage). */
export function parseBrokers(value: string | string[]): string[] {
  const list = (Array.isArray(value) ? value : value.split(',')).map((b) => String(b).trim()).filter(Boolean)
  if (list.length === 0) throw usageError('no brokers given', 'pass -b host:port[,host:port…]')
  for (const b of list) {
    const port = Number(/:(\d{1,5})$/.exec(b)?.[1])
    if (!/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/.test(b) || port < 1 || port > 65535) throw usageError(`broker "${b}" is not host:port`, 'pass -b host:port, e.g. -b 127.0.0.1:9092')
  }
  return list
}

/**
 * Builds a {@link Connection} from flags/env and the selected profile. Every secret it resolves
 * (passwords, URL passwords, the first bearer token, the variables a tokenCommand refers to) is
 * registered for redaction (src/redact.ts). With `sasl.mechanism: oauthbearer`, the tokenCommand
 * runs once here (bounded by `timeoutMs`), so a broken command fails before anything connects;
 * later authentications run it again.
 * Warns (`input.warn`) on every use of a profile with `tls.skipVerify: true`.
 * @throws EvtError usage (bad broker list, unset ${VAR}, an empty password, unreadable TLS file,
 *   a client certificate and key that do not open or do not belong together: {@link checkClientCertificate}),
 *   not-found (unknown profile), auth (exit 3: the tokenCommand failed, timed out or printed nothing).
 */
export function resolveConnection(input: ConnectionInput, env: NodeJS.ProcessEnv = process.env): Connection {
  const path = configPath(env)
  const warn = input.warn ?? warnOnStderr
  // The profile is always read: even with -b and --registry given, its TLS/SASL settings apply.
  const { name, profile } = selectProfile(loadConfig(path, warn), input.profile, path)
  const p: ProfileConfig = profile ?? {}
  const where = name ? `profile "${name}"` : 'profile'
  const str = (v: string | undefined) => (v === undefined ? undefined : expandEnv(v, env, where))
  /** A password: expanded, registered as a secret, never empty. */
  const secret = (v: string | undefined, field: string) => {
    const value = str(v)
    if (value === '') throw usageError(`${where}: ${field} is empty${v?.includes('${') ? ` (${v} expands to an empty string)` : ''}`, `set ${field} in ${path}`)
    registerSecret(value)
    return value
  }
  const url = (v: string, origin: string) => {
    const value = str(v)!
    registerUrlSecret(value)
    let parsed: URL | undefined
    try {
      parsed = new URL(value)
    } catch {
      parsed = undefined
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname) {
      throw usageError(`${origin}: "${redact(value)}" is not an http(s) URL`, 'give the schema registry\'s base URL, e.g. http://127.0.0.1:8081')
    }
    return value
  }

  // an empty -b / EVT_BROKERS (an unset variable in a script) must not fall back to the profile's or the default cluster
  if ((input.brokers ?? env.EVT_BROKERS)?.trim() === '') throw usageError('no brokers given: -b/--brokers (or EVT_BROKERS) is empty', 'pass -b host:port[,host:port…], or leave the flag out to use the profile\'s brokers')
  const brokers = input.brokers ? parseBrokers(input.brokers) : p.brokers ? parseBrokers(Array.isArray(p.brokers) ? p.brokers.map((b) => expandEnv(b, env, where)) : expandEnv(p.brokers, env, where)) : DEFAULT_BROKERS

  let ssl: SslOptions | undefined
  if (p.tls === true) ssl = true
  else if (p.tls && typeof p.tls === 'object') {
    ssl = {
      ca: p.tls.ca ? [readProfileFile(str(p.tls.ca)!, 'tls.ca')] : undefined,
      cert: p.tls.cert ? readProfileFile(str(p.tls.cert)!, 'tls.cert') : undefined,
      key: p.tls.key ? readProfileFile(str(p.tls.key)!, 'tls.key') : undefined,
      passphrase: p.tls.passphrase === undefined ? undefined : secret(p.tls.passphrase, 'tls.passphrase'),
      rejectUnauthorized: p.tls.skipVerify !== true,
    }
    checkClientCertificate(ssl, where, path)
    if (p.tls.skipVerify === true) warn(`${where} has tls.skipVerify: true: broker certificates are not checked, so anyone on the network path can read the traffic, credentials included (set tls.ca instead)`)
  }

  let sasl: SaslOptions | undefined
  if (p.sasl) {
    if (p.sasl.mechanism === 'oauthbearer') {
      const argv = tokenCommandArgv(p.sasl.tokenCommand!)
      registerCommandSecrets(argv, env)
      let first: string | undefined = fetchTokenSync(argv, input.timeoutMs, env)
      sasl = {
        mechanism: 'oauthbearer',
        oauthBearerProvider: async () => {
          const value = first ?? (await fetchToken(argv, input.timeoutMs, env))
          first = undefined
          return { value }
        },
      }
    } else {
      sasl = { mechanism: p.sasl.mechanism, username: str(p.sasl.username)!, password: secret(p.sasl.password, 'sasl.password')! }
    }
  }

  let registry: Connection['registry']
  if (input.registry) registry = { url: url(input.registry, '--registry (or EVT_SCHEMA_REGISTRY_URL)') }
  else if (typeof p.registry === 'string') registry = { url: url(p.registry, `${where}: registry`) }
  else if (p.registry) registry = { url: url(p.registry.url, `${where}: registry.url`), username: str(p.registry.username), password: secret(p.registry.password, 'registry.password') }

  return { profile: name, brokers, clientId: str(p.clientId) ?? 'evt', timeoutMs: input.timeoutMs, ssl, sasl, registry, verbose: Boolean(input.verbose), envelope: p.envelope, trace: p.trace === undefined ? undefined : { stallAfterMs: p.trace.stallAfter === undefined ? undefined : parseDuration(p.trace.stallAfter, `profile ${name}: trace.stallAfter`), index: p.trace.index }, protectedTopics: p.protectedTopics, lint: p.lint, outbox: p.outbox }
}
