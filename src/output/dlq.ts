/**
 * Renderers for `evt dlq list` and `evt dlq inspect`: tables, pretty records with their parsed
 * failure, and the `--json` contracts (documented on the functions and in the command help).
 */
import chalk from 'chalk'
import ms from 'ms'
import { isFailureHeader, simpleClassName, type DlqFailure } from '../dlq/failure.ts'
import type { DlqRecord, DlqGroupResult } from '../services/dlq-inspect.ts'
import type { DlqListResult } from '../services/dlq-list.ts'
import { escapeControl } from '../util/terminal-text.ts'
import { jsonLine, prettyRecord } from './records.ts'
import { renderTable } from './table.ts'
import { plural } from './plural.ts'
import { failureTime, failureView } from './dlq-failure-view.ts'

const time = failureTime

function age(ageMs: number | null): string {
  return ageMs === null ? '-' : `${ms(ageMs)} ago`
}

function cut(text: string, max: number): string {
  const line = text.split(/\r?\n/)[0]
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/**
 * `dlq list` as a table, with a footnote on how much was scanned.
 * The `--json` contract is {@link DlqListResult} as is: `JSON.stringify(result)`.
 */
export function renderDlqList(result: DlqListResult): string {
  const lines: string[] = []
  if (result.dlqs.length === 0) lines.push('no dead-letter topics found')
  else {
    lines.push(renderTable(
      ['TOPIC', 'FOUND BY', 'RECORDS', 'OLDEST', 'NEWEST', 'TOP ERRORS', 'FROM'],
      result.dlqs.map((d) => [
        d.topic,
        d.detectedBy,
        d.records,
        age(d.oldestAgeMs),
        age(d.newestAgeMs),
        d.topErrors.slice(0, 3).map((e) => `${e.exception === null ? '(none)' : simpleClassName(e.exception)} ×${e.count}`).join(', ') || '-',
        d.originalTopics.slice(0, 3).map((o) => `${o.topic} ×${o.count}`).join(', ') || '-',
      ]),
      { alignRight: [2] },
    ))
  }
  const partial = result.dlqs.filter((d) => !d.complete).length
  lines.push('', chalk.dim(`errors and origins from the last ≤${result.scanLimit} records of each DLQ${partial ? ` (${partial} DLQ${partial === 1 ? '' : 's'} hold more: counts are from that sample)` : ''}; ${result.topicsConsidered} topics looked at, ${result.topicsSampled} of them sampled by content (last ${result.sampleSize} records each)`))
  return lines.join('\n')
}

/**
 * The `dlq inspect --json` line, one per record: the `tail -f json` line (topic, partition,
 * offset, timestamp, key, keyEncoding, value, valueEncoding, headers — see output/records.ts
 * jsonLine) plus `"failure"`: the {@link DlqFailure} with only its known fields, the stack
 * trace whole.
 */
export function dlqJsonLine(item: DlqRecord): string {
  const line = jsonLine(item.record)
  return `${line.slice(0, line.lastIndexOf('}'))},"failure":${JSON.stringify(item.failure)},"requeued":${JSON.stringify(item.requeued ?? null)}}\n`
}

/** The first `lines` lines of a stack trace, then its `Caused by:` lines, and how much was left out. */
export function foldStack(stacktrace: string, lines = 4): string[] {
  const all = stacktrace.replace(/\s+$/, '').split(/\r?\n/)
  if (all.length <= lines + 1) return all
  const shown = all.slice(0, lines)
  const causes = all.slice(lines).filter((l) => /^\s*(Caused by:|--->)/.test(l))
  const hidden = all.length - lines - causes.length
  return [...shown, ...causes, `… ${hidden} more line${hidden === 1 ? '' : 's'} (--stack shows all)`]
}

/** The parsed failure ({@link failureView}) as indented lines (under a record's first line). */
export function failureLines(f: DlqFailure, options: { stack?: boolean } = {}): string[] {
  const view = failureView(f)
  if (!view.known) return [`  ${chalk.yellow('no dead-letter headers')}`]
  const out = [`  ${chalk.red.bold('✗')} ${chalk.red(escapeControl(view.exception))}${view.message !== undefined ? `: ${escapeControl(view.message)}` : ''}${view.keyFailure ? chalk.yellow('  [key failed]') : ''}`]
  for (const { label, value } of [...view.fields, { label: 'via', value: view.framework }]) out.push(`    ${chalk.dim(label.padEnd(9))} ${escapeControl(value)}`)
  for (const w of view.warnings) out.push(`    ${chalk.yellow(escapeControl(w))}`)
  if (view.stacktrace) {
    const stack = options.stack ? view.stacktrace.replace(/\s+$/, '').split(/\r?\n/) : foldStack(view.stacktrace)
    stack.forEach((l, i) => out.push(`    ${chalk.dim(i === 0 ? 'stack    ' : '         ')} ${chalk.dim(escapeControl(l))}`))
  }
  return out
}

/**
 * One record for the terminal: the `tail` pretty block (first line, other headers, key and
 * value decoded) with the parsed failure under its first line instead of the raw dead-letter
 * headers.
 */
export function prettyDlqRecord(item: DlqRecord, options: { stack?: boolean } = {}): string {
  const block = prettyRecord({ ...item.record, headers: item.record.headers.filter((h) => !isFailureHeader(h.key)) })
  const nl = block.indexOf('\n')
  const requeued = item.requeued ? `\n    ${chalk.green(`↻ requeued ${time(item.requeued.at)} → ${escapeControl(item.requeued.topic)}/${item.requeued.partition}${item.requeued.count > 1 ? ` (requeue ${item.requeued.count})` : ''}`)}` : ''
  return `${block.slice(0, nl)}\n${failureLines(item.failure, options).join('\n')}${requeued}${block.slice(nl)}`
}

/**
 * `--group-by` as a table. The `--json` contract is {@link DlqGroupResult} as is:
 * `{"topic","groupBy","scanned","matched","groups":[{"key","count","firstSeen","lastSeen","sample":{"message","topic","partition","offset"}}]}`.
 */
export function renderDlqGroups(result: DlqGroupResult): string {
  const head = chalk.dim(`${result.topic}: ${plural(result.scanned, 'record')} read, ${result.matched} matched, ${result.groups.length} group${result.groups.length === 1 ? '' : 's'} by ${result.groupBy}`)
  if (result.groups.length === 0) return `${head}\nno records`
  const table = renderTable(
    [result.groupBy.toUpperCase(), 'COUNT', 'FIRST SEEN', 'LAST SEEN', 'SAMPLE MESSAGE'],
    result.groups.map((g) => [g.key ?? '(none)', g.count, time(g.firstSeen), time(g.lastSeen), g.sample.message === null ? '-' : cut(g.sample.message, 80)]),
    { alignRight: [1] },
  )
  return `${head}\n${table}`
}
