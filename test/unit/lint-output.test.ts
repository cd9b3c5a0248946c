import { describe, expect, it } from 'vitest'
import type { LintFinding } from '../../src/lint/linter.ts'
import { explainJson, findingsAtLeast, lintJson, renderExplain, renderLint, severityCounts } from '../../src/output/lint.ts'
import type { LintResult } from '../../src/services/lint.ts'

const finding = (rule: LintFinding['rule'], severity: LintFinding['severity'], offsets: number[], note?: string): LintFinding => ({
  rule,
  severity,
  topic: 'invoices.events',
  subject: rule === 'causation-dangling' ? null : 'SendInvoiceEmail',
  message: 'm',
  count: offsets.length,
  evidence: offsets.map((o) => ({ topic: 'invoices.events', partition: 0, offset: o, ...(note ? { note } : {}) })),
})

const result = (findings: LintFinding[]): LintResult => ({ topics: ['invoices.events'], window: { since: null, lastPerPartition: 10_000 }, scanned: 12, bytes: 3400, findings, truncated: false, elapsedMs: 5 })

describe('lint output', () => {
  it('a table row per evidence record, the finding\'s columns on its first row only, then the summary', () => {
    const text = renderLint(result([finding('command-on-event-topic', 'error', [3, 9]), finding('causation-dangling', 'info', [4], 'causation id "x"')]))
    expect(text.split('\n')).toEqual([
      'TOPIC            RULE                    SEVERITY  SUBJECT           COUNT  EVIDENCE',
      'invoices.events  command-on-event-topic  error     SendInvoiceEmail      2  invoices.events/0@3',
      '                                                                            invoices.events/0@9',
      'invoices.events  causation-dangling      info                            1  invoices.events/0@4  causation id "x"',
      '',
      '12 records of 1 topic read (the last 10000 per partition): 1 error, 0 warnings, 1 info',
      'what a rule means and how to fix it: evt lint --explain command-on-event-topic',
    ])
  })

  it('no findings: the summary alone', () => {
    expect(renderLint(result([]))).toBe('12 records of 1 topic read (the last 10000 per partition): no findings')
  })

  it('--fail-on compares severities; the JSON document counts them', () => {
    const fs = [finding('command-on-event-topic', 'error', [1]), finding('duplicate-event-id', 'warning', [2]), finding('causation-dangling', 'info', [3])]
    expect(findingsAtLeast(fs, 'error').map((f) => f.rule)).toEqual(['command-on-event-topic'])
    expect(findingsAtLeast(fs, 'warning').map((f) => f.rule)).toEqual(['command-on-event-topic', 'duplicate-event-id'])
    expect(severityCounts(fs)).toEqual({ error: 1, warning: 1, info: 1 })
    expect((JSON.parse(lintJson(result(fs))) as { summary: unknown }).summary).toEqual({ error: 1, warning: 1, info: 1 })
  })

  it('--explain: every rule without names, the named ones otherwise', () => {
    expect(renderExplain([]).match(/^\S+ \((error|warning|info)\): /gm)).toHaveLength(11)
    expect(renderExplain(['version-drift'])).toMatch(/^version-drift \(error\): a field of an older event_version missing in a newer one, or versions going backwards\n\n {2}A newer version/)
    expect((JSON.parse(explainJson(['dlq-without-origin'])) as { rules: Array<{ id: string }> }).rules.map((r) => r.id)).toEqual(['dlq-without-origin'])
  })
})
