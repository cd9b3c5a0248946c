/**
 * Positions and times outside what Kafka can hold are usage errors (exit 2) with a hint, not
 * requests the broker rejects: times before 1970, offsets beyond 2^63-1.
 */
import { describe, expect, it } from 'vitest'
import { parsePositionRange } from '../../src/kafka/positions.ts'
import { checkEpoch } from '../../src/time.ts'

const usage = (message: RegExp) => expect.objectContaining({ exitCode: 2, message: expect.stringMatching(message) })

describe('position bounds', () => {
  const now = Date.UTC(2026, 10, 29)
  it('a time before 1970 is a usage error with a hint', () => {
    expect(() => parsePositionRange('@1969-01-01', now)).toThrow(usage(/before 1970/))
    expect(() => parsePositionRange('@-36500d', now)).toThrow(usage(/before 1970/))
    expect(() => parsePositionRange('@-1h:1969-12-31', now)).toThrow(usage(/before 1970/))
    expect(() => checkEpoch(-1, '-1')).toThrow(expect.objectContaining({ hint: expect.stringContaining('1970-01-01') }))
    expect(parsePositionRange('@1970-01-01T00:00:00Z', now).from).toEqual({ kind: 'time', timestamp: 0 })
  })

  it('an offset beyond 2^63-1 is a usage error; the largest one is accepted', () => {
    expect(() => parsePositionRange('99999999999999999999', now)).toThrow(usage(/2\^63-1/))
    expect(() => parsePositionRange('0:9223372036854775808', now)).toThrow(usage(/2\^63-1/))
    expect(parsePositionRange('9223372036854775807', now).from.kind).toBe('offset')
  })

  it('an epoch beyond what a date holds is a usage error', () => {
    expect(() => parsePositionRange('@99999999999999999999', now)).toThrow(usage(/future/))
  })
})
