import { describe, expect, it } from 'vitest'
import { EvtError } from '../../src/errors.ts'
import { parsePositionRange, POSITION_GRAMMAR, resolvePosition, resolveRange, timesIn, type PartitionBounds, type PositionRange } from '../../src/kafka/positions.ts'

const NOW = 1_700_000_000_000
const HOUR = 3_600_000
/** 2026-11-29T14:00:00Z and 15:00:00Z as epoch ms. */
const T14Z = Date.UTC(2026, 10, 29, 14)
const T15Z = Date.UTC(2026, 10, 29, 15)

function usageErrorOf(fn: () => unknown): EvtError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(EvtError)
    return err as EvtError
  }
  throw new Error('expected an EvtError, nothing was thrown')
}

describe('parsePositionRange: single positions', () => {
  it.each([
    ['start', { kind: 'start' }],
    ['oldest', { kind: 'start' }],
    ['end', { kind: 'end' }],
    ['newest', { kind: 'end' }],
    ['47', { kind: 'offset', offset: 47 }],
    ['0', { kind: 'offset', offset: 0 }],
    ['+10', { kind: 'after-start', count: 10 }],
    ['-10', { kind: 'before-end', count: 10 }],
    ['  47  ', { kind: 'offset', offset: 47 }],
  ])('%j', (text, from) => {
    expect(parsePositionRange(text, NOW)).toEqual({ from })
  })

  it('@epoch-seconds (up to 11 digits) and @epoch-ms (12 or more) are that instant', () => {
    expect(parsePositionRange('@1700000000', NOW)).toEqual({ from: { kind: 'time', timestamp: 1_700_000_000_000 } })
    expect(parsePositionRange('@1700000000:1700003600', NOW)).toEqual({ from: { kind: 'time', timestamp: 1_700_000_000_000 }, to: { kind: 'time', timestamp: 1_700_003_600_000 } })
    expect(parsePositionRange('@1700000000000', NOW)).toEqual({ from: { kind: 'time', timestamp: 1_700_000_000_000 } })
  })

  it('@RFC 3339 with Z', () => {
    expect(parsePositionRange('@2026-11-29T14:00:00Z', NOW)).toEqual({ from: { kind: 'time', timestamp: T14Z } })
  })

  it('@RFC 3339 with a +01:00 offset: colons inside the time do not split the range', () => {
    expect(parsePositionRange('@2026-11-29T14:00:00+01:00', NOW)).toEqual({ from: { kind: 'time', timestamp: T14Z - HOUR } })
  })

  it('@RFC 3339 with a -05:00 offset and fractional seconds', () => {
    expect(parsePositionRange('@2026-11-29T14:00:00.250-05:00', NOW)).toEqual({ from: { kind: 'time', timestamp: T14Z + 5 * HOUR + 250 } })
  })

  it('@date is local midnight', () => {
    expect(parsePositionRange('@2026-11-29', NOW)).toEqual({ from: { kind: 'time', timestamp: new Date(2026, 10, 29).getTime() } })
  })

  it('@-2h is two hours before now', () => {
    expect(parsePositionRange('@-2h', NOW)).toEqual({ from: { kind: 'time', timestamp: NOW - 2 * HOUR } })
  })

  it('@-15m and @-7d', () => {
    expect(parsePositionRange('@-15m', NOW).from).toEqual({ kind: 'time', timestamp: NOW - 15 * 60_000 })
    expect(parsePositionRange('@-7d', NOW).from).toEqual({ kind: 'time', timestamp: NOW - 7 * 24 * HOUR })
  })
})

describe('parsePositionRange: ranges', () => {
  it.each<[string, PositionRange]>([
    ['100:200', { from: { kind: 'offset', offset: 100 }, to: { kind: 'offset', offset: 200 } }],
    ['-50:end', { from: { kind: 'before-end', count: 50 }, to: { kind: 'end' } }],
    [':200', { from: { kind: 'start' }, to: { kind: 'offset', offset: 200 } }],
    ['47:+10', { from: { kind: 'offset', offset: 47 }, to: { kind: 'count', count: 10 } }],
    ['start:end', { from: { kind: 'start' }, to: { kind: 'end' } }],
    ['-10:20', { from: { kind: 'before-end', count: 10 }, to: { kind: 'offset', offset: 20 } }],
    ['+10:200', { from: { kind: 'after-start', count: 10 }, to: { kind: 'offset', offset: 200 } }],
    ['-10:-5', { from: { kind: 'before-end', count: 10 }, to: { kind: 'before-end', count: 5 } }],
  ])('%j', (text, range) => {
    expect(parsePositionRange(text, NOW)).toEqual(range)
  })

  it('a trailing colon "100:" means follow (no end)', () => {
    const range = parsePositionRange('100:', NOW)
    expect(range).toEqual({ from: { kind: 'offset', offset: 100 } })
    expect('to' in range).toBe(false)
  })

  it('@T1:T2 with RFC 3339 Z times; TO may omit its @', () => {
    expect(parsePositionRange('@2026-11-29T14:00:00Z:2026-11-29T15:00:00Z', NOW)).toEqual({ from: { kind: 'time', timestamp: T14Z }, to: { kind: 'time', timestamp: T15Z } })
    expect(parsePositionRange('@2026-11-29T14:00:00Z:@2026-11-29T15:00:00Z', NOW)).toEqual({ from: { kind: 'time', timestamp: T14Z }, to: { kind: 'time', timestamp: T15Z } })
  })

  it('@T1:T2 with +01:00 offsets on both ends', () => {
    expect(parsePositionRange('@2026-11-29T14:00:00+01:00:2026-11-29T15:00:00+01:00', NOW)).toEqual({
      from: { kind: 'time', timestamp: T14Z - HOUR },
      to: { kind: 'time', timestamp: T15Z - HOUR },
    })
  })

  it('@T1:T2 with times without seconds', () => {
    expect(parsePositionRange('@2026-11-29T14:00Z:2026-11-29T15:00Z', NOW)).toEqual({ from: { kind: 'time', timestamp: T14Z }, to: { kind: 'time', timestamp: T15Z } })
  })

  it('@epoch:epoch (TO without @ is a time in a time range)', () => {
    expect(parsePositionRange('@1700000000000:1700003600000', NOW)).toEqual({ from: { kind: 'time', timestamp: 1_700_000_000_000 }, to: { kind: 'time', timestamp: 1_700_003_600_000 } })
  })

  it('@date:date', () => {
    expect(parsePositionRange('@2026-11-29:2026-11-30', NOW)).toEqual({
      from: { kind: 'time', timestamp: new Date(2026, 10, 29).getTime() },
      to: { kind: 'time', timestamp: new Date(2026, 10, 30).getTime() },
    })
  })

  it('@-2h:-1h is a time range relative to now', () => {
    expect(parsePositionRange('@-2h:-1h', NOW)).toEqual({ from: { kind: 'time', timestamp: NOW - 2 * HOUR }, to: { kind: 'time', timestamp: NOW - HOUR } })
  })

  it('@-2h:end and @-2h: (follow)', () => {
    expect(parsePositionRange('@-2h:end', NOW)).toEqual({ from: { kind: 'time', timestamp: NOW - 2 * HOUR }, to: { kind: 'end' } })
    expect(parsePositionRange('@-2h:', NOW)).toEqual({ from: { kind: 'time', timestamp: NOW - 2 * HOUR } })
  })

  it('@-2h:100 mixes a time FROM with an offset TO (short numbers stay offsets)', () => {
    expect(parsePositionRange('@-2h:100', NOW)).toEqual({ from: { kind: 'time', timestamp: NOW - 2 * HOUR }, to: { kind: 'offset', offset: 100 } })
  })

  it('@-2h:+100 counts records from the resolved start', () => {
    expect(parsePositionRange('@-2h:+100', NOW)).toEqual({ from: { kind: 'time', timestamp: NOW - 2 * HOUR }, to: { kind: 'count', count: 100 } })
  })

  it('uses Date.now() when no now is given', () => {
    const before = Date.now()
    const ts = (parsePositionRange('@-1h').from as { timestamp: number }).timestamp
    const after = Date.now()
    expect(ts).toBeGreaterThanOrEqual(before - HOUR)
    expect(ts).toBeLessThanOrEqual(after - HOUR)
  })
})

describe('parsePositionRange: bad input', () => {
  it.each(['', 'abc', 'first', '4x7', '1:2:3', 'x:y', '100:abc', '@nope', '@-2x', '@-10', '@2026-02-30', '+', '-', '@', '1.5'])('%j is a usage error (exit 2) with the grammar in the hint', (text) => {
    const err = usageErrorOf(() => parsePositionRange(text, NOW))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message.startsWith(`bad position "${text}"`)).toBe(true)
    expect(err.hint).toBe(`positions: ${POSITION_GRAMMAR}`)
    expect(err.hint).toContain('FROM:TO')
  })

  it('a bad duration keeps the time parser\'s reason in the message', () => {
    const err = usageErrorOf(() => parsePositionRange('@-2x', NOW))
    expect(err.message).toBe('bad position "@-2x": time offset: "2x" is not a duration')
  })

  it('+N alone is after-start, not a count', () => {
    expect(parsePositionRange('+5', NOW).from.kind).toBe('after-start')
  })
})

describe('resolvePosition', () => {
  const bounds: PartitionBounds = { low: 100, high: 200 }

  it.each<[string, Parameters<typeof resolvePosition>[0], number]>([
    ['start → low', { kind: 'start' }, 100],
    ['end → high', { kind: 'end' }, 200],
    ['offset inside', { kind: 'offset', offset: 150 }, 150],
    ['offset at low', { kind: 'offset', offset: 100 }, 100],
    ['offset below low clamps to low', { kind: 'offset', offset: 5 }, 100],
    ['offset above high clamps to high', { kind: 'offset', offset: 999 }, 200],
    ['+10 after start', { kind: 'after-start', count: 10 }, 110],
    ['+500 after start clamps to high', { kind: 'after-start', count: 500 }, 200],
    ['-10 before end', { kind: 'before-end', count: 10 }, 190],
    ['-500 before end clamps to low', { kind: 'before-end', count: 500 }, 100],
    ['count without base counts from low', { kind: 'count', count: 7 }, 107],
  ])('%s', (_, position, expected) => {
    expect(resolvePosition(position, bounds)).toBe(expected)
  })

  it('count counts from the base and clamps to high', () => {
    expect(resolvePosition({ kind: 'count', count: 10 }, bounds, 150)).toBe(160)
    expect(resolvePosition({ kind: 'count', count: 100 }, bounds, 150)).toBe(200)
  })

  it('time uses the looked-up offset, clamped', () => {
    const timeOffsets = new Map<number, number | null>([
      [1000, 130],
      [2000, 50],
      [3000, null],
    ])
    expect(resolvePosition({ kind: 'time', timestamp: 1000 }, { ...bounds, timeOffsets })).toBe(130)
    expect(resolvePosition({ kind: 'time', timestamp: 2000 }, { ...bounds, timeOffsets })).toBe(100)
  })

  it('a time lookup returning null (no record at or after t) → end', () => {
    const timeOffsets = new Map<number, number | null>([[3000, null]])
    expect(resolvePosition({ kind: 'time', timestamp: 3000 }, { ...bounds, timeOffsets })).toBe(200)
  })

  it('a time never looked up → end', () => {
    expect(resolvePosition({ kind: 'time', timestamp: 4000 }, bounds)).toBe(200)
  })

  it('an empty partition (low = high) resolves everything to that offset', () => {
    const empty = { low: 7, high: 7 }
    expect(resolvePosition({ kind: 'start' }, empty)).toBe(7)
    expect(resolvePosition({ kind: 'before-end', count: 10 }, empty)).toBe(7)
    expect(resolvePosition({ kind: 'offset', offset: 0 }, empty)).toBe(7)
  })
})

describe('resolveRange', () => {
  const bounds: PartitionBounds = { low: 100, high: 200 }
  const range = (text: string) => parsePositionRange(text, NOW)

  it('100:150 is [100, 150)', () => {
    expect(resolveRange(range('100:150'), bounds)).toEqual({ start: 100, end: 150 })
  })

  it('no TO → follow (end undefined)', () => {
    const r = resolveRange(range('120:'), bounds)
    expect(r).toEqual({ start: 120 })
    expect(r.end).toBeUndefined()
  })

  it('clamps a range that starts below low and ends above high', () => {
    expect(resolveRange(range('5:9999'), bounds)).toEqual({ start: 100, end: 200 })
  })

  it('-50:end', () => {
    expect(resolveRange(range('-50:end'), bounds)).toEqual({ start: 150, end: 200 })
  })

  it(':120 starts at low', () => {
    expect(resolveRange(range(':120'), bounds)).toEqual({ start: 100, end: 120 })
  })

  it('FROM:+N counts from the resolved start', () => {
    expect(resolveRange(range('147:+10'), bounds)).toEqual({ start: 147, end: 157 })
    expect(resolveRange(range('5:+10'), bounds)).toEqual({ start: 100, end: 110 })
    expect(resolveRange(range('195:+10'), bounds)).toEqual({ start: 195, end: 200 })
  })

  it('end is never below start', () => {
    // ranges written backwards are refused by the parser; these only go backwards once resolved
    expect(resolveRange(range('-10:150'), bounds)).toEqual({ start: 190, end: 190 })
    expect(resolveRange({ from: { kind: 'offset', offset: 180 }, to: { kind: 'offset', offset: 120 } }, bounds)).toEqual({ start: 180, end: 180 })
  })

  it('a range written backwards is a usage error', () => {
    for (const text of ['180:120', 'end:start', '@-1h:@-2h', 'end:100']) {
      expect(() => parsePositionRange(text, NOW)).toThrow(/ends before it starts/)
    }
  })

  it('a time range resolves through the lookups; a null TO lookup → end', () => {
    const r = range('@-2h:-1h')
    const [t1, t2] = timesIn(r)
    expect([t1, t2]).toEqual([NOW - 2 * HOUR, NOW - HOUR])
    expect(resolveRange(r, { ...bounds, timeOffsets: new Map([[t1, 120], [t2, 170]]) })).toEqual({ start: 120, end: 170 })
    expect(resolveRange(r, { ...bounds, timeOffsets: new Map([[t1, 120], [t2, null]]) })).toEqual({ start: 120, end: 200 })
  })

  it('a time range whose FROM lookup is null starts (and ends) at end', () => {
    const r = range('@-2h:-1h')
    const [t1, t2] = timesIn(r)
    expect(resolveRange(r, { ...bounds, timeOffsets: new Map([[t1, null], [t2, null]]) })).toEqual({ start: 200, end: 200 })
  })

  it('a TO lookup before the FROM lookup does not make end < start', () => {
    const r = range('@-2h:-1h')
    const [t1, t2] = timesIn(r)
    expect(resolveRange(r, { ...bounds, timeOffsets: new Map([[t1, 160], [t2, 140]]) })).toEqual({ start: 160, end: 160 })
  })
})

describe('timesIn', () => {
  it('lists the time positions once', () => {
    expect(timesIn({ from: { kind: 'time', timestamp: 5 }, to: { kind: 'time', timestamp: 5 } })).toEqual([5])
    expect(timesIn(parsePositionRange('100:200', NOW))).toEqual([])
    expect(timesIn(parsePositionRange('@-1h:end', NOW))).toEqual([NOW - HOUR])
  })
})
