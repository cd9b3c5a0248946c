import { afterEach, describe, expect, it, vi } from 'vitest'
import { EvtError } from '../../src/errors.ts'
import { parseDuration, parseInstant, recordTimeText } from '../../src/time.ts'

function errorOf(fn: () => unknown): EvtError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(EvtError)
    return err as EvtError
  }
  throw new Error('expected an EvtError, nothing was thrown')
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['2m', 120_000],
    ['15m', 900_000],
    ['1.5h', 5_400_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['30d', 2_592_000_000],
    ['0s', 0],
    [' 10s ', 10_000],
    ['5 m', 300_000],
  ])('%j → %i ms', (text, expected) => {
    expect(parseDuration(text)).toBe(expected)
  })

  it.each(['10', '1.5', '.5', '3.'])('a bare number %j has no unit: usage error suggesting units', (text) => {
    const err = errorOf(() => parseDuration(text, '--timeout'))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`--timeout: "${text}" has no unit`)
    expect(err.hint).toBe(`write it with a unit, e.g. ${text}s or ${text}ms`)
  })

  it('a bare 0 has no unit, and the hint does not suggest 0s (which is refused as not longer than zero)', () => {
    const err = errorOf(() => parseDuration('0', '--timeout'))
    expect(err.message).toBe('--timeout: "0" has no unit')
    expect(err.hint).toBe('write it with a unit, e.g. 500ms, 10s, 5m')
  })

  it.each(['abc', '-5m', '10 parsecs', '1e3', '', '   ', 'h'])('%j is not a duration: usage error (not a plain Error)', (text) => {
    const err = errorOf(() => parseDuration(text))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`duration: "${text}" is not a duration`)
    expect(err.hint).toBe('use a number and a unit: 500ms, 10s, 5m, 2h, 7d')
  })
})

describe('parseInstant', () => {
  it('epoch ms (12 or more digits)', () => {
    expect(parseInstant('1700000000000')).toBe(1_700_000_000_000)
    expect(parseInstant(' 1700000000000 ')).toBe(1_700_000_000_000)
    expect(parseInstant('100000000000')).toBe(100_000_000_000)
  })

  it('epoch seconds (up to 11 digits, as date +%s prints them)', () => {
    expect(parseInstant('1700000000')).toBe(1_700_000_000_000)
    expect(parseInstant('99999999999')).toBe(99_999_999_999_000)
    expect(parseInstant('170000000')).toBe(170_000_000_000)
    expect(parseInstant('0')).toBe(0)
  })

  it('RFC 3339 with Z', () => {
    expect(parseInstant('2026-11-29T14:00:00Z')).toBe(Date.UTC(2026, 10, 29, 14))
    expect(parseInstant('2026-11-29T14:00:00.123Z')).toBe(Date.UTC(2026, 10, 29, 14, 0, 0, 123))
  })

  it('RFC 3339 with offsets', () => {
    expect(parseInstant('2026-11-29T14:00:00+01:00')).toBe(Date.UTC(2026, 10, 29, 13))
    expect(parseInstant('2026-11-29T14:00:00-05:30')).toBe(Date.UTC(2026, 10, 29, 19, 30))
    expect(parseInstant('2026-11-29T14:00:00+0100')).toBe(Date.UTC(2026, 10, 29, 13))
  })

  it('a space instead of T, lower case t and z, minutes only', () => {
    expect(parseInstant('2026-11-29 14:00:00Z')).toBe(Date.UTC(2026, 10, 29, 14))
    expect(parseInstant('2026-11-29t14:00:00z')).toBe(Date.UTC(2026, 10, 29, 14))
    expect(parseInstant('2026-11-29T14:05Z')).toBe(Date.UTC(2026, 10, 29, 14, 5))
  })

  it('no offset means local time', () => {
    expect(parseInstant('2026-11-29T14:00:00')).toBe(new Date(2026, 10, 29, 14).getTime())
    expect(parseInstant('2026-11-29T14:00')).toBe(new Date(2026, 10, 29, 14).getTime())
  })

  it('a date is local midnight', () => {
    expect(parseInstant('2026-11-29')).toBe(new Date(2026, 10, 29).getTime())
    expect(parseInstant('2028-02-29')).toBe(new Date(2028, 1, 29).getTime())
  })

  describe('in a fixed time zone (America/New_York, UTC-5 in November)', () => {
    afterEach(() => {
      vi.unstubAllEnvs()
    })

    it('a date is local midnight, not UTC midnight', () => {
      vi.stubEnv('TZ', 'America/New_York')
      expect(parseInstant('2026-11-29')).toBe(Date.UTC(2026, 10, 29, 5))
    })

    it('a time without offset is local; with Z or an offset it is not', () => {
      vi.stubEnv('TZ', 'America/New_York')
      expect(parseInstant('2026-11-29T14:00:00')).toBe(Date.UTC(2026, 10, 29, 19))
      expect(parseInstant('2026-11-29T14:00:00Z')).toBe(Date.UTC(2026, 10, 29, 14))
      expect(parseInstant('2026-11-29T14:00:00+01:00')).toBe(Date.UTC(2026, 10, 29, 13))
    })
  })

  it.each(['yesterday', '17000000.5', '2026-11-29T25:00:00Z', '2026-13-01', '2026-02-30', '2026-02-29', '2026-04-31T10:00:00Z', '2026-00-10', '2026-11-00', '29/11/2026', '2026-11-29T14', ''])('%j is a usage error naming the flag', (text) => {
    const err = errorOf(() => parseInstant(text, '--since'))
    expect(err.kind).toBe('usage')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`--since: "${text}" is not a time`)
    expect(err.hint).toBe('use epoch seconds (1700000000), epoch ms (1700000000000), RFC 3339 (2026-11-29T14:00:00Z) or a date (2026-11-29)')
  })
})

describe('recordTimeText', () => {
  it('ISO 8601 UTC, or a part of it', () => {
    expect(recordTimeText(1_700_000_000_123)).toBe('2023-11-14T22:13:20.123Z')
    expect(recordTimeText(1_700_000_000_123, 11, 23)).toBe('22:13:20.123')
    expect(recordTimeText(0)).toBe('1970-01-01T00:00:00.000Z')
  })

  it('Kafka\'s -1 (no timestamp) is shown as "no timestamp"', () => {
    expect(recordTimeText(-1)).toBe('no timestamp')
    expect(recordTimeText(-1, 11, 23)).toBe('no timestamp')
  })
})
