/**
 * Resolves where and how to connect: flag > env > profile > default.
 * (oclif already merges each flag with its EVT_* env var, flag first.)
 */
import { execSync } from 'node:child_process'
import type { EnvelopeConfig } from '../envelope/index.ts'
import { usageError, EvtError } from '../errors.ts'
import { configPath, expandEnv, loadConfig, readProfileFile, selectProfile, type ProfileConfig } from './profiles.ts'

/** The default broker when nothing else is given. */
export const DEFAULT_BROKERS = ['127.0.0.1:9092']

/** SASL options in the shape kafkajs takes. */
export type SaslOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; oauthBearerProvider: () => Promise<{ value: string }> }

/** TLS options in the shape kafkajs (node:tls) takes, or `true` for system CAs. */
export type SslOptions = true | { ca?: string[]; cert?: string; key?: string; rejectUnauthorized?: boolean }

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
}

/** What the shared connection flags hand over (already merged with their env vars). */
export interface ConnectionInput {
  brokers?: string
  profile?: string
  registry?: string
  timeoutMs: number
  verbose?: boolean
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
 * Builds a {@link Connection} from flags/env and the selected profile.
 * @throws EvtError usage (bad broker list, unset ${VAR}, unreadable TLS file) or not-found (unknown profile).
 */
export function resolveConnection(input: ConnectionInput, env: NodeJS.ProcessEnv = process.env): Connection {
  const path = configPath(env)
  // The profile is always read: even with -b and --registry given, its TLS/SASL settings apply.
  const { name, profile } = selectProfile(loadConfig(path), input.profile, path)
  const p: ProfileConfig = profile ?? {}
  const where = name ? `profile "${name}"` : 'profile'
  const str = (v: string | undefined) => (v === undefined ? undefined : expandEnv(String(v), env, where))

  const brokers = input.brokers ? parseBrokers(input.brokers) : p.brokers ? parseBrokers(Array.isArray(p.brokers) ? p.brokers.map((b) => expandEnv(String(b), env, where)) : expandEnv(p.brokers, env, where)) : DEFAULT_BROKERS

  let ssl: SslOptions | undefined
  if (p.tls === true) ssl = true
  else if (p.tls && typeof p.tls === 'object') {
    ssl = {
      ca: p.tls.ca ? [readProfileFile(str(p.tls.ca)!, 'tls.ca')] : undefined,
      cert: p.tls.cert ? readProfileFile(str(p.tls.cert)!, 'tls.cert') : undefined,
      key: p.tls.key ? readProfileFile(str(p.tls.key)!, 'tls.key') : undefined,
      rejectUnauthorized: p.tls.skipVerify ? false : true,
    }
  }

  let sasl: SaslOptions | undefined
  if (p.sasl) {
    if (p.sasl.mechanism === 'oauthbearer') {
      const command = str(p.sasl.tokenCommand)!
      sasl = { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: runTokenCommand(command) }) }
    } else {
      sasl = { mechanism: p.sasl.mechanism, username: str(p.sasl.username)!, password: str(p.sasl.password)! }
    }
  }

  let registry: Connection['registry']
  if (input.registry) registry = { url: input.registry }
  else if (typeof p.registry === 'string') registry = { url: str(p.registry)! }
  else if (p.registry) registry = { url: str(p.registry.url)!, username: str(p.registry.username), password: str(p.registry.password) }

  return { profile: name, brokers, clientId: str(p.clientId) ?? 'evt', timeoutMs: input.timeoutMs, ssl, sasl, registry, verbose: Boolean(input.verbose), envelope: p.envelope }
}

function runTokenCommand(command: string): string {
  try {
    const token = execSync(command, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).trim()
    if (!token) throw new Error('it printed nothing')
    return token
  } catch (err) {
    throw new EvtError('auth', `sasl.tokenCommand failed: ${(err as Error).message.split('\n')[0]}`, { hint: 'run the command by hand and fix it in the profile' })
  }
}
