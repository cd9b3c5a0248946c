/**
 * The write guard's rules (src/kafka/internal-topics.ts), the DLQ naming convention behind
 * --allow-target, and which broker refusals end a retry loop at once.
 */
import { describe, expect, it } from 'vitest'
import { conventionalSources } from '../../src/dlq/detect.ts'
import { parseFailure } from '../../src/dlq/failure.ts'
import { EvtError, isNonRetriable } from '../../src/errors.ts'
import { assertWritableTopic, internalTopicKind, isProtectedTopic, writeRefusal } from '../../src/kafka/internal-topics.ts'
import type { RawRecord } from '../../src/record.ts'
import { requeueDecision } from '../../src/services/dlq-requeue.ts'

describe('internal topics', () => {
  it('knows Kafka\'s own topics, the registry\'s and Kafka Connect\'s', () => {
    expect(internalTopicKind('__consumer_offsets')).toBe('kafka')
    expect(internalTopicKind('__transaction_state')).toBe('kafka')
    expect(internalTopicKind('_schemas')).toBe('platform')
    for (const t of ['connect-configs', 'connect-offsets', 'connect-status', 'billing-connect-configs', 'cdc-offsets', 'sink-status']) expect(internalTopicKind(t)).toBe('platform')
    for (const t of ['orders.events', 'orders-dlt', '_private', 'status-updates', 'offsets.audit']) expect(internalTopicKind(t)).toBeUndefined()
  })

  it('refuses __* topics even when named, platform topics only when not named', () => {
    expect(writeRefusal('__consumer_offsets', true)).toMatch(/internal topics/)
    expect(writeRefusal('_schemas', true)).toBeUndefined()
    expect(writeRefusal('_schemas', false)).toMatch(/schema registry or Kafka Connect/)
    expect(writeRefusal('orders', false)).toBeUndefined()
    expect(() => assertWritableTopic('__consumer_offsets', '--to-topic')).toThrow(expect.objectContaining({ exitCode: 6 }))
    expect(() => assertWritableTopic('connect-configs', '--to-topic')).not.toThrow()
  })

  it('guards the profile\'s protectedTopics (names and globs) like platform topics', () => {
    const list = ['audit.*', 'billing.ledger', 'tenant/{a,b}']
    expect(isProtectedTopic('audit.trail', list)).toBe(true)
    expect(isProtectedTopic('billing.ledger', list)).toBe(true)
    expect(isProtectedTopic('tenant/b', list)).toBe(true)
    expect(isProtectedTopic('billing.ledger2', list)).toBe(false)
    expect(isProtectedTopic('audit', list)).toBe(false)
    expect(isProtectedTopic('audit.trail', [])).toBe(false)
    expect(writeRefusal('audit.trail', false, list)).toBe('"audit.trail" is protected by the profile\'s protectedTopics')
    expect(writeRefusal('audit.trail', true, list)).toBeUndefined()
    expect(writeRefusal('__consumer_offsets', true, list)).toMatch(/internal topics/)
  })
})

describe('DLQ naming convention', () => {
  it('names the topics a DLQ\'s records come from', () => {
    expect(conventionalSources('orders.events-dlt')).toEqual(['orders.events'])
    expect(conventionalSources('orders.events.DLT')).toEqual(['orders.events'])
    expect(conventionalSources('orders.events-dlq.v1')).toEqual(['orders.events'])
    expect(conventionalSources('orders.events-dead-letter')).toEqual(['orders.events'])
    expect(conventionalSources('dlq.orders.events')).toEqual(['orders.events'])
    expect(conventionalSources('dead-letter-topic-orders')).toEqual(['orders'])
    expect(conventionalSources('error.orders.events.billing')).toEqual(['orders.events'])
    expect(conventionalSources('failed-stuff')).toEqual([])
  })

  it('requeue decisions: internal-topic, target-not-allowed unless allowed or named with --to', () => {
    const record = (original: string): RawRecord => ({ topic: 'orders.events-dlt', partition: 0, offset: '3', timestamp: 0, key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'kafka_dlt-original-topic', value: Buffer.from(original) }] }) as RawRecord
    const targets = new Map([['orders.events', 1], ['payments.events', 1], ['_schemas', 1], ['__consumer_offsets', 50]])
    const decide = (original: string, extra: object = {}) => {
      const r = record(original)
      return requeueDecision(r, parseFailure(r.headers), { dlqTopic: 'orders.events-dlt', range: { from: { kind: 'start' } }, ...extra } as never, targets, () => 0)
    }
    expect(decide('orders.events')).toMatchObject({ topic: 'orders.events' })
    expect(decide('payments.events')).toEqual({ skip: 'target-not-allowed' })
    expect(decide('payments.events', { allowTargets: ['payments.events'] })).toMatchObject({ topic: 'payments.events' })
    expect(decide('_schemas', { allowTargets: ['_schemas'] })).toEqual({ skip: 'internal-topic' })
    expect(decide('__consumer_offsets')).toEqual({ skip: 'internal-topic' })
    expect(decide('payments.events', { to: '_schemas' })).toMatchObject({ topic: '_schemas' })
  })
})

describe('isNonRetriable', () => {
  const protocol = (type: string, retriable: boolean) => Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable })
  it('stops on refusals a retry would repeat, found anywhere in the cause chain', () => {
    expect(isNonRetriable(protocol('TOPIC_AUTHORIZATION_FAILED', false))).toBe(true)
    expect(isNonRetriable(protocol('INVALID_TOPIC_EXCEPTION', false))).toBe(true)
    expect(isNonRetriable(Object.assign(new Error('wrapped'), { name: 'KafkaJSNonRetriableError', retriable: false, cause: protocol('MESSAGE_TOO_LARGE', false) }))).toBe(true)
    expect(isNonRetriable(new EvtError('auth', 'not authorized'))).toBe(true)
  })
  it('retries what a moving leader or coordinator causes', () => {
    expect(isNonRetriable(protocol('NOT_LEADER_OR_FOLLOWER', true))).toBe(false)
    expect(isNonRetriable(protocol('COORDINATOR_NOT_AVAILABLE', true))).toBe(false)
    expect(isNonRetriable(Object.assign(new Error('Connection timeout'), { name: 'KafkaJSConnectionError' }))).toBe(false)
    expect(isNonRetriable(new EvtError('connect', 'cannot connect'))).toBe(false)
  })
})
