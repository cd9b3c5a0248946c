/**
 * A coordinator that is still loading (a broker that just started, the first transactional id of a
 * cluster creating __transaction_state) is waited for, within --timeout; other errors are not retried.
 */
import { createRequire } from 'node:module'
import kafkajs from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { EvtError, isCoordinatorNotReady, mapKafkaError } from '../../src/errors.ts'
import { whileCoordinatorLoads } from '../../src/replay/move.ts'

const { KafkaJSProtocolError } = kafkajs
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error }
const protocolError = (code: number) => new KafkaJSProtocolError(createErrorFromCode(code))

describe('isCoordinatorNotReady', () => {
  it('is true for COORDINATOR_LOAD_IN_PROGRESS (14), COORDINATOR_NOT_AVAILABLE (15) and NOT_COORDINATOR (16), also once mapped to an EvtError', () => {
    for (const code of [14, 15, 16]) {
      expect(isCoordinatorNotReady(protocolError(code)), String(code)).toBe(true)
      const mapped = mapKafkaError(protocolError(code))
      expect(mapped).toBeInstanceOf(EvtError)
      expect(isCoordinatorNotReady(mapped), `mapped ${code}`).toBe(true)
    }
    expect(mapKafkaError(protocolError(14)).message).toBe('Kafka is not available: The coordinator is loading and hence can\'t process requests for this group')
  })

  it('is false for other errors, retriable or not', () => {
    for (const code of [3, 6, 29, 51]) expect(isCoordinatorNotReady(protocolError(code)), String(code)).toBe(false)
    expect(isCoordinatorNotReady(new Error('boom'))).toBe(false)
    expect(isCoordinatorNotReady(new EvtError('connect', 'cannot connect'))).toBe(false)
  })
})

describe('whileCoordinatorLoads', () => {
  it('tries again while the coordinator loads, and returns the result once it answers', async () => {
    let calls = 0
    const result = await whileCoordinatorLoads(async () => {
      calls++
      if (calls < 3) throw mapKafkaError(protocolError(14))
      return 'ready'
    }, { untilMs: 10_000 })
    expect([result, calls]).toEqual(['ready', 3])
  })

  it('throws any other error at once', async () => {
    let calls = 0
    await expect(whileCoordinatorLoads(async () => {
      calls++
      throw protocolError(29) // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    }, { untilMs: 10_000 })).rejects.toThrow()
    expect(calls).toBe(1)
  })

  it('gives up after untilMs with the last error', async () => {
    let calls = 0
    await expect(whileCoordinatorLoads(async () => {
      calls++
      throw protocolError(14)
    }, { untilMs: 250 })).rejects.toMatchObject({ code: 14 })
    expect(calls).toBeGreaterThan(1)
    expect(calls).toBeLessThan(10)
  })
})
