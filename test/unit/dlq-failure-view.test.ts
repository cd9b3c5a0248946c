/**
 * One view model per DLQ failure: the plain output (dlq inspect) and the browser's detail pane
 * show the same fields, labels and values, from failureView.
 */
import { describe, expect, it } from 'vitest'
import { parseFailure } from '../../src/dlq/failure.ts'
import { failureView } from '../../src/output/dlq-failure-view.ts'
import { failureLines } from '../../src/output/dlq.ts'
import { failureDetailLines } from '../../src/ui/dlq/format.ts'
import { headers } from '../support/fixtures/envelope-record.ts'
import { connectHeaders, springDltHeaders } from '../support/fixtures/dlq-headers.ts'

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '')

describe('failureView', () => {
  for (const [name, h] of [['Spring DLT', springDltHeaders()], ['Kafka Connect', connectHeaders()]] as const) {
    it(`${name}: the plain lines and the browser's lines show the same fields`, () => {
      const f = parseFailure(headers(h))
      const view = failureView(f)
      expect(view.known).toBe(true)
      expect(view.fields.length).toBeGreaterThan(1)
      const text = failureLines(f).map(plain)
      const detail = failureDetailLines(f, false)
      for (const { label, value } of view.fields) {
        expect(text, label).toContain(`    ${label.padEnd(9)} ${value}`)
        expect(detail, label).toContainEqual({ kind: 'field', label, text: value })
      }
      expect(text[0]).toContain(view.exception)
      expect(detail).toContainEqual({ kind: 'field', label: 'exception', text: view.exception })
    })
  }

  it('a record without dead-letter headers: both say so, and nothing else', () => {
    const f = parseFailure(headers([['content-type', 'application/json']]))
    expect(failureView(f)).toMatchObject({ known: false, fields: [] })
    expect(failureLines(f).map(plain)).toEqual(['  no dead-letter headers'])
    expect(failureDetailLines(f, false)).toEqual([{ kind: 'warning', text: 'no dead-letter headers' }])
  })
})
