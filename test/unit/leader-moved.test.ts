/** leaderMoved: which kafkajs errors of ListOffsets are worth a metadata refresh and another try. */
import { describe, expect, it } from 'vitest'
import { leaderMoved } from '../../src/kafka/kafkajs/transport.ts'

describe('leaderMoved', () => {
  it('is true for a moved or missing leader, also wrapped, and false for anything else', () => {
    expect(leaderMoved({ type: 'NOT_LEADER_FOR_PARTITION' })).toBe(true)
    expect(leaderMoved({ type: 'LEADER_NOT_AVAILABLE' })).toBe(true)
    expect(leaderMoved({ name: 'KafkaJSNumberOfRetriesExceeded', originalError: { type: 'UNKNOWN_TOPIC_OR_PARTITION' } })).toBe(true)
    expect(leaderMoved({ type: 'TOPIC_AUTHORIZATION_FAILED' })).toBe(false)
    expect(leaderMoved(new Error('Connection timeout'))).toBe(false)
    expect(leaderMoved(undefined)).toBe(false)
  })
})
