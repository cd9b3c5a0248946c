/**
 * Where `evt outbox` looks (src/outbox/target.ts): internal topics are never an outbox relay's
 * topics, whether named with --topic or picked by --topic-prefix.
 */
import { describe, expect, it } from 'vitest'
import { EvtError } from '../../src/errors.ts'
import { relayReadRefusal } from '../../src/kafka/internal-topics.ts'
import { outboxTarget, relayTopics } from '../../src/outbox/target.ts'

const DB = 'postgres://evt@127.0.0.1:5432/shop'

function usage(fn: () => unknown): EvtError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(EvtError)
    expect((err as EvtError).exitCode).toBe(2)
    return err as EvtError
  }
  throw new Error('no error thrown')
}

describe('relayReadRefusal', () => {
  it.each([
    ['__consumer_offsets', 'is one of Kafka\'s internal topics'],
    ['__transaction_state', 'is one of Kafka\'s internal topics'],
    ['_schemas', 'is a schema registry or Kafka Connect internal topic'],
    ['connect-offsets', 'is a schema registry or Kafka Connect internal topic'],
    ['payments.events-dlt.evt-requeued', 'is evt\'s requeue ledger of "payments.events-dlt"'],
  ])('%s is refused', (topic, reason) => {
    expect(relayReadRefusal(topic)).toBe(`"${topic}" ${reason}`)
  })

  it('an outbox topic that merely ends like a Connect topic is not', () => {
    expect(relayReadRefusal('outbox.event.order-status')).toBeUndefined()
    expect(relayReadRefusal('outbox.event.Order')).toBeUndefined()
  })
})

describe('outboxTarget', () => {
  it('--topic naming an internal topic is a usage error with a hint', () => {
    const e = usage(() => outboxTarget({ db: DB, topic: ['outbox.event.Order', '__consumer_offsets'] }, undefined, 1000))
    expect(e.message).toBe('--topic __consumer_offsets: "__consumer_offsets" is one of Kafka\'s internal topics, not an outbox relay\'s topic')
    expect(e.hint).toMatch(/^name the topics the relay publishes to/)
  })

  it('a --topic-prefix of Kafka\'s internal topics is a usage error, from the profile too', () => {
    expect(usage(() => outboxTarget({ db: DB, 'topic-prefix': '__' }, undefined, 1000)).message).toBe('--topic-prefix __: topics starting with __ are Kafka\'s internal topics, not an outbox relay\'s')
    usage(() => outboxTarget({ db: DB }, { topicPrefix: '__consumer' }, 1000))
  })

  it('ordinary topics and prefixes pass', () => {
    expect(outboxTarget({ db: DB, topic: ['outbox.event.order-status'] }, undefined, 1000)).toMatchObject({ topics: ['outbox.event.order-status'], topicPrefix: 'outbox.event.' })
  })
})

describe('relayTopics', () => {
  it('picks the topics with the prefix, sorted, without internal ones', () => {
    const all = ['_schemas', '_evt.x', 'connect-status', 'connect-x-status', '__consumer_offsets', 'outbox.event.B', 'outbox.event.A', 'outbox.event.A.evt-requeued', 'orders']
    expect(relayTopics(all, 'outbox.event.')).toEqual(['outbox.event.A', 'outbox.event.B'])
    expect(relayTopics(all, '_')).toEqual(['_evt.x'])
    expect(relayTopics(all, 'connect-')).toEqual(['connect-x-status'])
  })
})
