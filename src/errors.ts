/**
 * evt's errors and exit codes: one table, one mapping from Kafka client errors (matched on names,
 * Kafka error types and Node error codes as strings; the client's own names come from its
 * adapter folder, src/kafka/kafkajs/errors.ts).
 *
 * Every failure a user can cause or fix is an {@link EvtError} carrying an exit code and a
 * "try this" hint. The base command prints `evt: <message>` plus the hint on stderr and exits
 * with the code; no stack trace unless `--verbose`.
 */
import { CONNECT_ERRORS, ERROR_NAME_PREFIX, SASL_AUTHENTICATION_ERROR } from './kafka/kafkajs/errors.ts'

/**
 * Stable exit codes, documented in README.md ("Exit codes"). Scripts and CI rely on them:
 * never renumber.
 */
export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** A bug in evt, or an error nobody anticipated. */
  Internal: 1,
  /** Bad flag, argument, position grammar, filter or template; a state folder (`$XDG_STATE_HOME/evt`) that cannot be made or written. */
  Usage: 2,
  /** Cannot connect to or authenticate with a broker, the schema registry or PostgreSQL (unreachable, login refused). */
  Connect: 3,
  /**
   * A topic, consumer group, profile, schema or trace index does not exist; so does a PostgreSQL database, table
   * or column (the server answered: the name is wrong, retrying will not help).
   */
  NotFound: 4,
  /** An expectation was not met (e.g. `trace --expect` timed out, `--fail-empty`). */
  Expectation: 5,
  /** Refused by a safety check (active group, loop guard, a write without --yes and no TTY). */
  Refused: 6,
  /** Interrupted by Ctrl-C (SIGINT). */
  Interrupted: 130,
} as const

/** One of the values of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** The kind of an {@link EvtError}; each kind has one exit code. */
export type ErrorKind = 'internal' | 'usage' | 'connect' | 'auth' | 'not-found' | 'expectation' | 'refused' | 'interrupted'

const exitCodeByKind: Record<ErrorKind, ExitCodeValue> = {
  internal: ExitCode.Internal,
  usage: ExitCode.Usage,
  connect: ExitCode.Connect,
  auth: ExitCode.Connect,
  'not-found': ExitCode.NotFound,
  expectation: ExitCode.Expectation,
  refused: ExitCode.Refused,
  interrupted: ExitCode.Interrupted,
}

/**
 * An error evt expects and explains. `message` says what went wrong in one line; `hint` says
 * what to do about it (a flag to pass, a command to run). `exitCode` follows {@link ExitCode}.
 */
export class EvtError extends Error {
  readonly kind: ErrorKind
  readonly hint?: string
  readonly exitCode: ExitCodeValue

  constructor(kind: ErrorKind, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'EvtError'
    this.kind = kind
    this.hint = options.hint
    this.exitCode = exitCodeByKind[kind]
  }
}

/** A usage error (exit 2): bad flag value, bad grammar. */
export function usageError(message: string, hint?: string): EvtError {
  return new EvtError('usage', message, { hint })
}

/** A not-found error (exit 4). */
export function notFoundError(message: string, hint?: string): EvtError {
  return new EvtError('not-found', message, { hint })
}

/** A refusal by a safety check (exit 6). */
export function refusedError(message: string, hint?: string): EvtError {
  return new EvtError('refused', message, { hint })
}

interface KafkaLikeError {
  name?: string
  message?: string
  type?: string
  code?: string | number
  retriable?: boolean
  cause?: unknown
  originalError?: unknown
  broker?: string
}

const AUTH_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
])

const AUTHORIZATION_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
])

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ECONNRESET',
])

/**
 * TLS alerts (RFC 8446 §6.2, RFC 5246 §7.2.2) with which a server refuses the client's certificate
 * (none sent to a listener that requires one, or one it does not trust), in OpenSSL's words.
 */
const CLIENT_CERT_ALERTS = new Set(['bad certificate', 'certificate unknown', 'unknown ca', 'certificate required', 'certificate expired', 'certificate revoked', 'unsupported certificate', 'access denied'])

/**
 * The TLS alert a peer sent, from Node's error code for it (OpenSSL's reason upper-cased:
 * `ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE`, `ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN` (OpenSSL 3),
 * `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`, `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA`), anywhere in the
 * cause chain, as lower-case words ("certificate unknown"); undefined when there is none.
 */
export function tlsAlert(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    const m = typeof e.code === 'string' ? /^ERR_SSL_(?:SSLV3|TLSV1|TLSV1_[0-9]|TLSV13|SSL\/TLS)_ALERT_([A-Z_]+)$/.exec(e.code) : null
    if (m) return m[1].toLowerCase().replace(/_/g, ' ')
  }
  return undefined
}

/** True when `alert` (from {@link tlsAlert}) says the server refused the client certificate, or wanted one. */
export function isClientCertificateAlert(alert: string | undefined): boolean {
  return alert !== undefined && CLIENT_CERT_ALERTS.has(alert)
}

/** Hint for a client certificate the broker refused. */
export const CLIENT_CERT_HINT = 'set tls.cert and tls.key in the profile to a client certificate signed by a CA the broker trusts (its listener\'s ssl.truststore), valid now: ask the cluster\'s admin which CA that is'

/** Walks `cause` / `originalError` links, innermost last. */
function causeChain(err: unknown): KafkaLikeError[] {
  const chain: KafkaLikeError[] = []
  let current: unknown = err
  for (let depth = 0; current && typeof current === 'object' && depth < 8; depth++) {
    const e = current as KafkaLikeError
    chain.push(e)
    current = e.originalError ?? e.cause
  }
  return chain
}

/**
 * Maps any error thrown by the Kafka client (or by Node's net/tls under it) to an {@link EvtError}.
 * Already-mapped errors pass through, also when the client wrapped one. `context.brokers` names the brokers tried, for the
 * connection message; `context.topic` / `context.group` name what was not found.
 *
 * Mapping: SASL failures → auth (3); connection refused, DNS, TLS (a refused client certificate
 * included: {@link tlsAlert}), timeouts → connect (3);
 * UNKNOWN_TOPIC_OR_PARTITION → not-found (4); GROUP_ID_NOT_FOUND → not-found (4);
 * anything else → internal (1) with the client's message.
 */
export function mapKafkaError(err: unknown, context: { brokers?: string[]; topic?: string; group?: string } = {}): EvtError {
  if (err instanceof EvtError) return err
  const chain = causeChain(err)
  // an EvtError thrown inside the client (e.g. by the OAUTHBEARER token provider) says it best
  const ours = chain.find((e) => e instanceof EvtError)
  if (ours) return ours as EvtError
  const brokers = context.brokers?.join(',') ?? 'the configured brokers'
  const text = chain.map((e) => `${e.name ?? ''} ${e.type ?? ''} ${e.code ?? ''} ${e.message ?? ''}`).join(' | ')

  if (chain.some((e) => e.name === SASL_AUTHENTICATION_ERROR || (e.type && AUTH_TYPES.has(e.type)))) {
    const inner = chain.find((e) => e.name === SASL_AUTHENTICATION_ERROR) ?? chain[0]
    const reason = firstLine(inner.message)
    // an OAUTHBEARER token the broker refused (the adapter says so: "the broker rejected the token")
    const oauth = /OAUTHBEARER/.test(reason) && /rejected the token/.test(reason)
    return new EvtError('auth', `authentication failed at ${brokers}: ${reason}`, {
      hint: oauth
        ? 'the token printed by sasl.tokenCommand was refused: check that it is current (exp) and issued for this cluster (audience, scope, principal claim); run the command yourself to see what it prints'
        : 'check the SASL mechanism, username and password of the profile (evt profiles show)',
      cause: err,
    })
  }
  const denied = chain.find((e) => e.type && AUTHORIZATION_TYPES.has(e.type))
  if (denied) {
    return new EvtError('auth', `not authorized at ${brokers}: ${firstLine(denied.message)}${context.topic ? ` (topic ${context.topic})` : ''}`, {
      hint: 'the credentials were accepted but lack an ACL for this operation: ask the cluster admin, or use another profile',
      cause: err,
    })
  }
  const alert = tlsAlert(err)
  if (isClientCertificateAlert(alert)) {
    return new EvtError('connect', `the broker at ${brokers} refused the TLS handshake with alert "${alert}": it did not accept the client certificate (or none was sent)`, {
      hint: CLIENT_CERT_HINT,
      cause: err,
    })
  }
  if (alert) {
    return new EvtError('connect', `TLS handshake with ${brokers} failed: the broker sent alert "${alert}"`, {
      hint: 'check the profile\'s tls settings (ca, cert, key) against what the listener expects (evt profiles show)',
      cause: err,
    })
  }
  const tls = chain.find((e) => typeof e.code === 'string' && TLS_CODES.has(e.code) && e.code !== 'ECONNRESET')
  if (tls) {
    return new EvtError('connect', `TLS handshake with ${brokers} failed: ${firstLine(tls.message)}`, {
      hint: 'set tls.ca in the profile to the CA that signed the broker certificate (or tls.skipVerify for a test cluster)',
      cause: err,
    })
  }
  const invalidTopic = chain.find((e) => e.type === 'INVALID_TOPIC_EXCEPTION')
  if (invalidTopic) {
    return new EvtError('refused', `the broker refused the write${context.topic ? ` to "${context.topic}"` : ''}: ${firstLine(invalidTopic.message)}`, {
      hint: 'internal topics (__*) and invalid topic names cannot be written: choose an ordinary topic',
      cause: err,
    })
  }
  const rejected = chain.find((e) => e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE' || e.type === 'INVALID_TIMESTAMP' || e.type === 'INVALID_RECORD')
  if (rejected) {
    const hints: Record<string, string> = {
      MESSAGE_TOO_LARGE: 'the record is larger than the topic accepts: raise the topic\'s max.message.bytes, or write a smaller value',
      RECORD_LIST_TOO_LARGE: 'the batch is larger than the topic accepts: raise the topic\'s max.message.bytes',
      INVALID_TIMESTAMP: 'the timestamp is outside what the topic accepts (message.timestamp.*.max.ms): drop --keep-timestamps, or fix the timestamps',
      INVALID_RECORD: 'the broker refused the record (e.g. a compacted topic needs a key)',
    }
    return new EvtError('usage', `the broker refused the write: ${firstLine(rejected.message)}`, { hint: hints[rejected.type!], cause: err })
  }
  if (chain.some((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION')) {
    return new EvtError('not-found', `topic ${context.topic ? `"${context.topic}" ` : ''}does not exist`, {
      hint: 'list topics with: evt topics',
      cause: err,
    })
  }
  if (chain.some((e) => e.type === 'GROUP_ID_NOT_FOUND')) {
    return new EvtError('not-found', `consumer group ${context.group ? `"${context.group}" ` : ''}does not exist`, {
      hint: 'list groups with: evt groups',
      cause: err,
    })
  }
  const connectNames = new Set<string>(CONNECT_ERRORS)
  const netCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'])
  if (chain.some((e) => (e.name && connectNames.has(e.name) && /connect|timeout|closed|broker/i.test(text)) || (typeof e.code === 'string' && netCodes.has(e.code)))) {
    const reason = chain.map((e) => e.code).find((c) => typeof c === 'string' && netCodes.has(c))
    return new EvtError('connect', `cannot connect to Kafka at ${brokers}${reason ? ` (${reason})` : ''}`, {
      hint: 'check that the brokers are up and reachable, the address and port (-b/--brokers, EVT_BROKERS, or the profile), and TLS/SASL settings',
      cause: err,
    })
  }
  const retriable = chain.find((e) => e.retriable === true && e.type)
  if (retriable) {
    return new EvtError('connect', `Kafka is not available: ${firstLine(retriable.message)}`, {
      hint: 'the cluster may be moving leaders or coordinators after a broker failure: retry in a moment, and check the brokers',
      cause: err,
    })
  }
  const top = chain[0] ?? {}
  return new EvtError('internal', `Kafka error: ${firstLine(top.message ?? String(err))}`, { cause: err })
}

/**
 * Kafka error types of a group or transaction coordinator that is not ready yet: loading its
 * partition of __consumer_offsets or __transaction_state (a broker that just started, a topic the
 * first transactional id creates), not elected, or moved to another broker.
 */
const COORDINATOR_NOT_READY_TYPES = new Set([
  // Kafka's names of error codes 14, 15, 16, and the client's (kafkajs types them by their older names)
  'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR',
  'GROUP_LOAD_IN_PROGRESS', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR_FOR_GROUP',
])

/**
 * True when `err` (a client error, or an EvtError mapped from one: its cause chain is searched)
 * says the coordinator is not ready yet ("The coordinator is loading and hence can't process
 * requests"): Kafka marks these retriable, and the same request succeeds once it has loaded.
 */
export function isCoordinatorNotReady(err: unknown): boolean {
  return causeChain(err).some((e) => typeof e.type === 'string' && COORDINATOR_NOT_READY_TYPES.has(e.type))
}

/** Kafka error types a broker answers when retrying cannot help: the same request fails the same way. */
const NON_RETRIABLE_TYPES = new Set([
  ...AUTH_TYPES,
  ...AUTHORIZATION_TYPES,
  'INVALID_TOPIC_EXCEPTION',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_TIMESTAMP',
  'INVALID_RECORD',
  'INVALID_REQUIRED_ACKS',
  'POLICY_VIOLATION',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'INVALID_CONFIG',
])

/**
 * True for an error that retrying cannot fix: a broker refusal (authorization, invalid topic,
 * record too large, …) anywhere in its cause chain, not marked retriable, or an {@link EvtError}
 * other than a connection failure. Moves and other retry loops stop at once on these.
 */
export function isNonRetriable(err: unknown): boolean {
  if (err instanceof EvtError) return err.kind !== 'connect' && err.kind !== 'internal'
  return causeChain(err).some((e) => e.retriable !== true && typeof e.type === 'string' && NON_RETRIABLE_TYPES.has(e.type))
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0].trim()
}

/** True for an error thrown by the Kafka client library itself (the base command maps such errors when they escape). */
export function isKafkaClientError(err: unknown): boolean {
  return typeof (err as { name?: unknown })?.name === 'string' && (err as { name: string }).name.startsWith(ERROR_NAME_PREFIX)
}
