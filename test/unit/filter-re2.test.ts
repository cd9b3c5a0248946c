/**
 * Regular expressions in CEL filters run on RE2 (linear time): a catastrophic backtracking pattern
 * on a long value returns at once instead of hanging evt; patterns RE2 does not accept are usage errors.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/codec/decode.ts'
import { compileDlqCel } from '../../src/dlq/filter.ts'
import { parseFailure } from '../../src/dlq/failure.ts'
import { compileCel } from '../../src/filter.ts'
import type { RawRecord } from '../../src/record.ts'

const record = (value: string) => decodeRecord({ topic: 't', partition: 0, offset: '0', timestamp: 0, key: null, value: Buffer.from(value), headers: [{ key: 'h', value: Buffer.from(value) }] } as unknown as RawRecord)

describe('CEL matches on RE2', () => {
  it('a catastrophic pattern on a long value gives its answer at once (in a child process killed after 10 s, so a regression fails instead of hanging)', () => {
    const filter = fileURLToPath(new URL('../../src/filter.ts', import.meta.url))
    const script = `import { compileCel } from ${JSON.stringify(filter)}
const record = (v) => ({ topic: 't', partition: 0, offset: '0', timestamp: 0, key: null, value: Buffer.from(v), headers: [], keyDecoded: { kind: 'null', value: null }, valueDecoded: { kind: 'text', value: v } })
process.stdout.write(String(compileCel('value.matches("^(a+)+$")')(record('a'.repeat(5000) + '!'))))`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000, encoding: 'utf8' })
    expect(child.signal).toBeNull()
    expect(child.stdout).toBe('false')
  }, 15_000)

  // in this process, a shorter value: a regression would be slow here, not hang (the test above catches it)
  const slow = `${'a'.repeat(22)}!`

  it('a catastrophic pattern in this process too', () => {
    const filter = compileCel('value.matches("^(a+)+$")')
    expect(filter(record(slow))).toBe(false)
    expect(filter(record('aaaa'))).toBe(true)
    expect(compileCel('headers["h"].matches("^(a|aa)+$") == false')(record(slow))).toBe(true)
  }, 10_000)

  it('inside macros, with a pattern from the record, and in dlq filters too', () => {
    expect(compileCel('value.items.exists(x, x.matches("^(a+)+$"))')(record(JSON.stringify({ items: ['b', slow] })))).toBe(false)
    expect(compileCel('value.items.exists(x, x.matches("^(a+)+$"))')(record(JSON.stringify({ items: ['b', 'aaa'] })))).toBe(true)
    expect(compileCel('value.s.matches(value.p)')(record(JSON.stringify({ s: slow, p: '^(a|a)+$' })))).toBe(false)
    const r = record(slow)
    expect(compileDlqCel('value.matches("^(a+)+$")')(r, parseFailure([]))).toBe(false)
  }, 10_000)

  it('keeps RE2 semantics: unanchored search, classes, flags', () => {
    expect(compileCel('value.matches("b+c")')(record('abbbcd'))).toBe(true)
    expect(compileCel('value.matches("(?i)^ORDER-\\\\d+$")')(record('order-42'))).toBe(true)
    expect(compileCel('value.matches("^x")')(record('ax'))).toBe(false)
  })

  it('a literal pattern RE2 does not accept is a usage error; a dynamic one leaves the record out with a warning', () => {
    expect(() => compileCel('value.matches("(a)\\\\1")')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringContaining('not supported') }))
    expect(() => compileCel('value.matches("a(?=b)")')).toThrow(expect.objectContaining({ exitCode: 2 }))
    const warnings: string[] = []
    const filter = compileCel('value.s.matches(value.p)', '--filter', (m) => warnings.push(m))
    expect(filter(record(JSON.stringify({ s: 'ab', p: 'a(?=b)' })))).toBe(false)
    expect(warnings.join()).toContain('RE2')
  })
})
