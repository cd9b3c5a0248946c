/**
 * escapeControl and the renderers that use it: record-borne text never reaches a terminal with
 * control characters in it.
 */
import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/codec/decode.ts'
import type { DlqFailure } from '../../src/dlq/failure.ts'
import { failureLines, renderDlqGroups } from '../../src/output/dlq.ts'
import { prettyRecord } from '../../src/output/records.ts'
import { renderTable } from '../../src/output/table.ts'
import { failureDetailLines, groupLabel } from '../../src/ui/dlq/format.ts'
import { headerLines, keyPreview } from '../../src/ui/format.ts'
import { escapeControl } from '../../src/util/terminal-text.ts'

const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

describe('escapeControl', () => {
  it('writes terminal controls as visible escapes and keeps text, tabs and line feeds', () => {
    expect(escapeControl('a\u001b[2Jb')).toBe('a\\x1b[2Jb')
    expect(escapeControl('\u001b]52;c;aGk=\u0007')).toBe('\\x1b]52;c;aGk=\\x07')
    expect(escapeControl('x\ry\u009b1m\u202egnp.exe')).toBe('x\\x0dy\\x9b1m\\u202egnp.exe')
    expect(escapeControl('plain: ünïcödé ✓\tand\nlines')).toBe('plain: ünïcödé ✓\tand\nlines')
  })
})

describe('renderers escape record text', () => {
  const evil = 'boom \u001b[2J\u001b]52;c;aGk=\u0007'
  const failure: DlqFailure = { framework: 'spring-dlt', exception: `com.example.Boom${evil}`, message: evil, originalTopic: `orders${evil}`, stacktrace: `com.example.Boom: ${evil}\n\tat x(${evil})`, warnings: [evil] } as DlqFailure

  it('plain: failure lines, tables, group tables, pretty records', () => {
    expect(failureLines(failure, { stack: true }).join('\n')).not.toMatch(unsafe)
    expect(renderTable(['A'], [[evil]])).toContain('\\x1b[2J')
    expect(renderDlqGroups({ topic: 'd', groupBy: 'exception', scanned: 1, matched: 1, groups: [{ key: evil, count: 1, firstSeen: 0, lastSeen: 0, sample: { message: evil, topic: 'd', partition: 0, offset: '0' } }] } as never)).not.toMatch(unsafe)
    const record = decodeRecord({ topic: 't', partition: 0, offset: '1', timestamp: 0, key: Buffer.from(JSON.stringify(evil)), value: Buffer.from('v'), headers: [{ key: `h${evil}`, value: Buffer.from(evil) }] } as never)
    expect(prettyRecord(record)).not.toMatch(unsafe)
  })

  it('Ink views: detail lines, group labels, header names, key previews', () => {
    for (const line of failureDetailLines(failure, true)) expect(`${line.label ?? ''}${line.text}`).not.toMatch(unsafe)
    expect(groupLabel(evil)).not.toMatch(unsafe)
    const record = decodeRecord({ topic: 't', partition: 0, offset: '1', timestamp: 0, key: Buffer.from(JSON.stringify(evil)), value: Buffer.from('v'), headers: [{ key: `h${evil}`, value: null }] } as never)
    expect(headerLines(record)[0].key).not.toMatch(unsafe)
    expect(keyPreview(record, 200)).not.toMatch(unsafe)
  })
})
