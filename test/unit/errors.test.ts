import { createRequire } from 'node:module'
import kafkajs from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { EvtError, ExitCode, mapKafkaError, notFoundError, refusedError, usageError } from '../../src/errors.ts'
import { registryEvtError } from '../../src/codec/registry.ts'
import { RegistryError } from '../../src/codec/registry-client.ts'

const require = createRequire(import.meta.url)
/** kafkajs's own table of broker error codes → { type, code, retriable, message }. */
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error & { type: string; code: number } }

/** kafkajs's error classes as they are at runtime (its .d.ts leaves out some constructor options and classes). */
type KafkaErrorClass = new (e: unknown, options?: Record<string, unknown>) => Error & { code?: string | number; type?: string }
const { KafkaJSSASLAuthenticationError, KafkaJSConnectionError, KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError, KafkaJSRequestTimeoutError, KafkaJSConnectionClosedError, KafkaJSError } = kafkajs as unknown as Record<string, KafkaErrorClass>

const context = { brokers: ['b1:9092', 'b2:9092'], topic: 'orders', group: 'billing' }
const CONNECT_HINT = 'check that the brokers are up and reachable, the address and port (-b/--brokers, EVT_BROKERS, or the profile), and TLS/SASL settings'

/** A Node socket error, as net.connect reports it. */
function netError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code })
}

describe('EvtError and the exit code table', () => {
  it('each kind has its exit code', () => {
    expect(new EvtError('internal', 'x').exitCode).toBe(1)
    expect(new EvtError('usage', 'x').exitCode).toBe(2)
    expect(new EvtError('connect', 'x').exitCode).toBe(3)
    expect(new EvtError('auth', 'x').exitCode).toBe(3)
    expect(new EvtError('not-found', 'x').exitCode).toBe(4)
    expect(new EvtError('expectation', 'x').exitCode).toBe(5)
    expect(new EvtError('refused', 'x').exitCode).toBe(6)
    expect(new EvtError('interrupted', 'x').exitCode).toBe(130)
    expect(ExitCode).toEqual({ Ok: 0, Internal: 1, Usage: 2, Connect: 3, NotFound: 4, Expectation: 5, Refused: 6, Interrupted: 130 })
  })

  it('carries name, message, hint and cause', () => {
    const cause = new Error('inner')
    const e = new EvtError('connect', 'msg', { hint: 'do this', cause })
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('EvtError')
    expect(e.message).toBe('msg')
    expect(e.hint).toBe('do this')
    expect(e.cause).toBe(cause)
    expect('cause' in new EvtError('usage', 'm')).toBe(false)
  })

  it('helpers', () => {
    expect(usageError('u', 'h')).toMatchObject({ kind: 'usage', exitCode: 2, message: 'u', hint: 'h' })
    expect(notFoundError('n')).toMatchObject({ kind: 'not-found', exitCode: 4, message: 'n', hint: undefined })
    expect(refusedError('r', 'h')).toMatchObject({ kind: 'refused', exitCode: 6, message: 'r', hint: 'h' })
  })
})

describe('mapKafkaError', () => {
  it('an EvtError the client wrapped (a token provider failure) comes out as it was', () => {
    const ours = new EvtError('auth', 'sasl.tokenCommand (x) exited with code 1')
    const wrapped = Object.assign(new Error('Connection error: sasl.tokenCommand (x) exited with code 1'), { name: 'KafkaJSNumberOfRetriesExceeded', originalError: Object.assign(new Error('x'), { name: 'KafkaJSConnectionError', cause: ours }) })
    expect(mapKafkaError(wrapped)).toBe(ours)
  })

  it('KafkaJSSASLAuthenticationError → auth, exit 3', () => {
    const err = new KafkaJSSASLAuthenticationError('SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512')
    expect(err.name).toBe('KafkaJSSASLAuthenticationError')
    const m = mapKafkaError(err, context)
    expect(m.kind).toBe('auth')
    expect(m.exitCode).toBe(3)
    expect(m.message).toBe('authentication failed at b1:9092,b2:9092: SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512')
    expect(m.hint).toBe('check the SASL mechanism, username and password of the profile (evt profiles show)')
    expect(m.cause).toBe(err)
  })

  it('a SASL error wrapped by the retrier (cause chain) is still auth', () => {
    const inner = new KafkaJSSASLAuthenticationError('SASL PLAIN authentication failed: bad password')
    const outer = new KafkaJSNonRetriableError(inner, { cause: inner })
    const m = mapKafkaError(outer, context)
    expect(m.kind).toBe('auth')
    expect(m.message).toBe('authentication failed at b1:9092,b2:9092: SASL PLAIN authentication failed: bad password')
  })

  it('protocol error SASL_AUTHENTICATION_FAILED (code 58) → auth', () => {
    const m = mapKafkaError(new KafkaJSProtocolError(createErrorFromCode(58)), context)
    expect(m.kind).toBe('auth')
    expect(m.exitCode).toBe(3)
  })

  it('KafkaJSConnectionError with code ECONNREFUSED → connect, exit 3, names the brokers', () => {
    const err = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092', code: 'ECONNREFUSED' })
    expect(err.code).toBe('ECONNREFUSED')
    const m = mapKafkaError(err, context)
    expect(m.kind).toBe('connect')
    expect(m.exitCode).toBe(3)
    expect(m.message).toBe('cannot connect to Kafka at b1:9092,b2:9092 (ECONNREFUSED)')
    expect(m.hint).toBe(CONNECT_HINT)
  })

  it('without context the message says "the configured brokers"', () => {
    const m = mapKafkaError(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', { code: 'ECONNREFUSED' }))
    expect(m.message).toBe('cannot connect to Kafka at the configured brokers (ECONNREFUSED)')
  })

  it('retries exceeded over a refused connection (kafkajs cause chain) → connect with the reason', () => {
    const conn = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092', code: 'ECONNREFUSED' })
    const err = new KafkaJSNumberOfRetriesExceeded(conn, { retryCount: 5, retryTime: 3000 })
    expect(err.cause).toBe(conn)
    const m = mapKafkaError(err, context)
    expect(m.kind).toBe('connect')
    expect(m.message).toBe('cannot connect to Kafka at b1:9092,b2:9092 (ECONNREFUSED)')
  })

  it('a nested originalError chain: the reason is found several levels down', () => {
    const err = {
      name: 'KafkaJSNonRetriableError',
      message: 'Failed to fetch metadata',
      originalError: {
        name: 'KafkaJSNumberOfRetriesExceeded',
        message: 'Connection error: getaddrinfo ENOTFOUND kafka.internal',
        originalError: { name: 'KafkaJSConnectionError', message: 'Connection error: getaddrinfo ENOTFOUND kafka.internal', originalError: netError('ENOTFOUND', 'getaddrinfo ENOTFOUND kafka.internal') },
      },
    }
    const m = mapKafkaError(err, { brokers: ['kafka.internal:9092'] })
    expect(m.kind).toBe('connect')
    expect(m.exitCode).toBe(3)
    expect(m.message).toBe('cannot connect to Kafka at kafka.internal:9092 (ENOTFOUND)')
    expect(m.cause).toBe(err)
  })

  it('an originalError chain ending in UNKNOWN_TOPIC_OR_PARTITION → not-found', () => {
    const err = { name: 'KafkaJSNonRetriableError', message: 'outer', originalError: { name: 'KafkaJSError', message: 'middle', cause: new KafkaJSProtocolError(createErrorFromCode(3)) } }
    expect(mapKafkaError(err, context)).toMatchObject({ kind: 'not-found', exitCode: 4, message: 'topic "orders" does not exist' })
  })

  it('a cyclic chain does not loop forever', () => {
    const a: { name: string; message: string; cause?: unknown } = { name: 'X', message: 'a' }
    a.cause = { name: 'Y', message: 'b', cause: a }
    expect(mapKafkaError(a)).toMatchObject({ kind: 'internal', exitCode: 1, message: 'Kafka error: a' })
  })

  it('KafkaJSProtocolError UNKNOWN_TOPIC_OR_PARTITION → not-found, exit 4, names the topic', () => {
    const err = new KafkaJSProtocolError(createErrorFromCode(3))
    expect(err.type).toBe('UNKNOWN_TOPIC_OR_PARTITION')
    const m = mapKafkaError(err, context)
    expect(m.kind).toBe('not-found')
    expect(m.exitCode).toBe(4)
    expect(m.message).toBe('topic "orders" does not exist')
    expect(m.hint).toBe('list topics with: evt topics')
    expect(mapKafkaError(err).message).toBe('topic does not exist')
  })

  it('UNKNOWN_TOPIC_OR_PARTITION after retries (retriable, so wrapped by KafkaJSNumberOfRetriesExceeded) → not-found', () => {
    const inner = new KafkaJSProtocolError(createErrorFromCode(3))
    const m = mapKafkaError(new KafkaJSNumberOfRetriesExceeded(inner, { retryCount: 5, retryTime: 100 }), context)
    expect(m.kind).toBe('not-found')
    expect(m.message).toBe('topic "orders" does not exist')
  })

  it('GROUP_ID_NOT_FOUND (code 69) → not-found naming the group', () => {
    const m = mapKafkaError(new KafkaJSProtocolError(createErrorFromCode(69)), context)
    expect(m).toMatchObject({ kind: 'not-found', exitCode: 4, message: 'consumer group "billing" does not exist', hint: 'list groups with: evt groups' })
  })

  it('a TLS certificate error → connect with the TLS hint', () => {
    const err = new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain', { broker: 'b1:9093', code: 'SELF_SIGNED_CERT_IN_CHAIN' })
    const m = mapKafkaError(err, context)
    expect(m.kind).toBe('connect')
    expect(m.exitCode).toBe(3)
    expect(m.message).toBe('TLS handshake with b1:9092,b2:9092 failed: Connection error: self-signed certificate in certificate chain')
    expect(m.hint).toContain('tls.ca')
  })

  it('ECONNRESET is a connection problem, not TLS', () => {
    const m = mapKafkaError(new KafkaJSConnectionError('Connection error: read ECONNRESET', { code: 'ECONNRESET' }), context)
    expect(m.message).toBe('cannot connect to Kafka at b1:9092,b2:9092 (ECONNRESET)')
  })

  it('request timeout and closed connection → connect', () => {
    expect(mapKafkaError(new KafkaJSRequestTimeoutError('Request Metadata(key: 3, version: 6) timed out', { broker: 'b1:9092' }), context)).toMatchObject({ kind: 'connect', exitCode: 3, message: 'cannot connect to Kafka at b1:9092,b2:9092' })
    expect(mapKafkaError(new KafkaJSConnectionClosedError('Closed connection', { host: 'b1', port: 9092 }), context)).toMatchObject({ kind: 'connect', exitCode: 3 })
  })

  it('a bare Node socket error (no kafkajs wrapper) → connect', () => {
    expect(mapKafkaError(netError('EHOSTUNREACH', 'connect EHOSTUNREACH 10.0.0.1:9092'), context).message).toBe('cannot connect to Kafka at b1:9092,b2:9092 (EHOSTUNREACH)')
  })

  it('an unknown error → internal, exit 1, first line of the message', () => {
    const m = mapKafkaError(new Error('something odd\n    at stack line'), context)
    expect(m.kind).toBe('internal')
    expect(m.exitCode).toBe(1)
    expect(m.message).toBe('Kafka error: something odd')
    expect(m.hint).toBeUndefined()
  })

  it('a retriable protocol error left after retries (NOT_LEADER_FOR_PARTITION) → connect: the cluster is not available', () => {
    expect(mapKafkaError(new KafkaJSProtocolError(createErrorFromCode(6)), context)).toMatchObject({ kind: 'connect', exitCode: 3, message: 'Kafka is not available: This server is not the leader for that topic-partition' })
  })

  it('a non-retriable unmapped protocol error (INVALID_REQUEST) → internal with kafkajs\'s message', () => {
    expect(mapKafkaError(new KafkaJSProtocolError(createErrorFromCode(42)), context)).toMatchObject({ kind: 'internal', exitCode: 1, message: 'Kafka error: This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details' })
  })

  it('a generic KafkaJSError without connection words → internal', () => {
    expect(mapKafkaError(new KafkaJSError('Invalid record batch'), context)).toMatchObject({ kind: 'internal', message: 'Kafka error: Invalid record batch' })
  })

  it('non-Error values → internal', () => {
    expect(mapKafkaError('boom')).toMatchObject({ kind: 'internal', exitCode: 1, message: 'Kafka error: boom' })
    expect(mapKafkaError(undefined)).toMatchObject({ kind: 'internal', exitCode: 1, message: 'Kafka error: undefined' })
  })

  it('an EvtError passes through unchanged', () => {
    const e = new EvtError('refused', 'group is active', { hint: 'stop it' })
    expect(mapKafkaError(e, context)).toBe(e)
  })
})

describe('registry errors', () => {
  it('a 404 with a Confluent error code is not-found (4); a 404 without one means the URL is not the registry API (3)', () => {
    const missing = registryEvtError(new RegistryError('Subject not found', { status: 404, code: 40401 }), 'subject orders-value')
    expect(missing.exitCode).toBe(4)
    const wrongUrl = registryEvtError(new RegistryError('HTTP 404', { status: 404 }), 'subjects')
    expect(wrongUrl.exitCode).toBe(3)
    expect(wrongUrl.message).toBe('subjects: the schema registry URL answers 404 without a schema registry error: it is not the registry\'s API')
    expect(wrongUrl.hint).toMatch(/base URL/)
  })
})
