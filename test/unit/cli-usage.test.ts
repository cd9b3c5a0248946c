/**
 * oclif's parse errors in evt's form: a flag value its parser refused names the flag, the reason
 * and the accepted range.
 */
import { describe, expect, it } from 'vitest'
import { flagParseFailure, flagValueError, usageFromParseError, type CommandSpec } from '../../src/cli-usage.ts'

/** What oclif throws when an integer flag's value is refused (src: @oclif/core parser/parse.js, flags.js). */
function oclifFlagError(flag: string, reason: string): Error {
  const err = new Error(`Parsing --${flag} \n\t${reason}\nSee more help with --help`) as Error & { oclif: { exit: number } }
  err.oclif = { exit: 2 }
  return err
}

const spec: CommandSpec = {
  id: 'outbox:check',
  flags: {
    'max-rows': { name: 'max-rows', char: 'n', summary: 'Stop after this many rows.', env: 'EVT_MAX_ROWS', min: 1 },
    level: { name: 'level', min: 1, max: 9 },
    below: { name: 'below', max: 100 },
    any: { name: 'any' },
  },
}

describe('flagParseFailure', () => {
  it('reads the flag and the reason out of oclif\'s wrapped message', () => {
    expect(flagParseFailure('Parsing --max-rows \n\tExpected an integer greater than or equal to 1 but received: 0\nSee more help with --help')).toEqual({ flag: '--max-rows', reason: 'Expected an integer greater than or equal to 1 but received: 0' })
    expect(flagParseFailure('Flag --x expects a value')).toBeUndefined()
  })
})

describe('usageFromParseError for a refused flag value', () => {
  it.each([
    ['max-rows', 'Expected an integer greater than or equal to 1 but received: 0', 'evt: --max-rows: expected an integer >= 1, got 0'],
    ['max-rows', 'Expected an integer but received: 1.5', 'evt: --max-rows: expected an integer >= 1, got "1.5"'],
    ['level', 'Expected an integer less than or equal to 9 but received: 10', 'evt: --level: expected an integer from 1 to 9, got 10'],
    ['below', 'Expected an integer less than or equal to 100 but received: 101', 'evt: --below: expected an integer <= 100, got 101'],
    ['any', 'Expected an integer but received: x', 'evt: --any: expected an integer, got "x"'],
    ['any', 'not a colour: mauve', 'evt: --any: not a colour: mauve'],
  ])('--%s: %s', (flag, reason, shown) => {
    const e = usageFromParseError(oclifFlagError(flag, reason), spec)
    expect(e.kind).toBe('usage')
    expect(e.exitCode).toBe(2)
    expect(`evt: ${e.message}`).toBe(shown)
  })

  it('the hint says what the flag does and where its help is', () => {
    expect(usageFromParseError(oclifFlagError('max-rows', 'Expected an integer greater than or equal to 1 but received: 0'), spec).hint).toBe('--max-rows: Stop after this many rows; see evt outbox check --help')
    expect(usageFromParseError(oclifFlagError('any', 'Expected an integer but received: x'), spec).hint).toBe('see evt outbox check --help')
  })

  it('names the environment variable when the value came from it', () => {
    const reason = 'Expected an integer greater than or equal to 1 but received: 0'
    expect(flagValueError('--max-rows', reason, spec, 'see x', { argv: [], env: { EVT_MAX_ROWS: '0' } }).message).toBe('--max-rows: expected an integer >= 1, got 0 (from $EVT_MAX_ROWS)')
    expect(flagValueError('--max-rows', reason, spec, 'see x', { argv: ['--max-rows', '0'], env: { EVT_MAX_ROWS: '5' } }).message).toBe('--max-rows: expected an integer >= 1, got 0')
    expect(flagValueError('--max-rows', reason, spec, 'see x', { argv: ['-n0'], env: { EVT_MAX_ROWS: '5' } }).message).toBe('--max-rows: expected an integer >= 1, got 0')
  })
})
