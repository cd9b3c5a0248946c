/**
 * Plain-text pieces of the `evt dlq inspect` browser (no colours, no React): record ids, list
 * lines, the lines of the detail pane, the plan and result texts of a requeue. Pure functions,
 * tested without rendering; the view only picks colours by line kind.
 */
import { isFailureHeader, type DlqFailure } from '../../dlq/failure.ts'
import type { DlqGroupBy } from '../../dlq/group.ts'
import type { MoveProgress, MoveSummary } from '../../replay/move.ts'
import type { DlqRecord, RequeuedInfo } from '../../services/dlq-inspect.ts'
import type { RequeuePlan } from '../../services/dlq-requeue.ts'
import { requeuedText } from '../../output/dlq-requeue.ts'
import { escapeControl } from '../../util/terminal-text.ts'
import { failureView } from '../../output/dlq-failure-view.ts'
import { headerLines, valueLines } from '../format.ts'
import { NO_TIMESTAMP, recordTimeText } from '../../time.ts'

/** Stack lines shown while the stack trace is folded (then its `Caused by:` lines). */
export const FOLDED_STACK_LINES = 4
/** Longest header value or field shown on its one line (the view truncates to the width). */
const LINE_CHARS = 400

/** A DLQ record's id within its topic: `partition@offset`. */
export function recordId(item: { partition: number; offset: string }): string {
  return `${item.partition}@${item.offset}`
}

/** The record time as `YYYY-MM-DD HH:MM:SS` (UTC). */
export function recordTime(timestamp: number): string {
  const text = recordTimeText(timestamp, 0, 19)
  return text === NO_TIMESTAMP ? text : text.replace('T', ' ')
}

/** A group's label: its key (escaped), or `(none)` when the records do not say. */
export function groupLabel(key: string | null): string {
  return key === null ? '(none)' : escapeControl(key)
}

/** What each grouping is called in the view. */
export const GROUP_BY_LABEL: Record<DlqGroupBy, string> = { exception: 'exception', reason: 'reason', 'original-topic': 'original topic', stage: 'stage' }

/** Tabs and line breaks out, so a text stays on one line and Ink measures it right; control characters escaped. */
export function oneLine(text: string, max = LINE_CHARS): string {
  const line = escapeControl(text.replace(/\s*[\r\n]+\s*/g, ' ⏎ ').replace(/\t/g, '  '))
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/** One line of the detail pane; the view colours it by `kind`. */
export interface DetailLine {
  kind: 'section' | 'field' | 'stack' | 'more' | 'warning' | 'header' | 'value' | 'error' | 'note'
  /** Field name or header key. */
  label?: string
  text: string
  /** A null header value (shown as `(null)`). */
  isNull?: boolean
  /** A header value in base64 (not UTF-8 text). */
  base64?: boolean
}

/** The stack trace as lines: whole, or folded to its first lines and `Caused by:` lines. */
export function stackLines(stacktrace: string, expanded: boolean): DetailLine[] {
  const all = stacktrace.replace(/\s+$/, '').split(/\r?\n/).map((l) => escapeControl(l.replace(/\t/g, '    ')))
  if (expanded) {
    const lines: DetailLine[] = all.map((text) => ({ kind: 'stack', text }))
    if (all.length > FOLDED_STACK_LINES + 1) lines.push({ kind: 'more', text: '(s folds the stack trace)' })
    return lines
  }
  if (all.length <= FOLDED_STACK_LINES + 1) return all.map((text) => ({ kind: 'stack', text }))
  const causes = all.slice(FOLDED_STACK_LINES).filter((l) => /^\s*(Caused by:|--->)/.test(l))
  const hidden = all.length - FOLDED_STACK_LINES - causes.length
  return [
    ...all.slice(0, FOLDED_STACK_LINES).map((text): DetailLine => ({ kind: 'stack', text })),
    ...causes.map((text): DetailLine => ({ kind: 'stack', text })),
    { kind: 'more', text: `… ${hidden} more line${hidden === 1 ? '' : 's'} (s expands)` },
  ]
}

/** The parsed failure ({@link failureView}, as the plain output shows it) as detail lines. */
export function failureDetailLines(f: DlqFailure, stackExpanded: boolean): DetailLine[] {
  const view = failureView(f)
  if (!view.known) return [{ kind: 'warning', text: 'no dead-letter headers' }]
  const out: DetailLine[] = [{ kind: 'section', text: `failure (${view.framework})${view.keyFailure ? ' · the key failed' : ''}` }]
  const fields = [{ label: 'exception', value: view.exception }, ...(view.message !== undefined && view.message !== '' ? [{ label: 'message', value: view.message }] : []), ...view.fields]
  for (const { label, value } of fields) out.push({ kind: 'field', label, text: oneLine(value) })
  for (const w of view.warnings) out.push({ kind: 'warning', text: oneLine(w) })
  if (view.stacktrace) {
    out.push({ kind: 'section', text: stackExpanded ? 'stack trace:' : 'stack trace (folded):' })
    out.push(...stackLines(view.stacktrace, stackExpanded))
  }
  return out
}

/**
 * Everything the detail pane shows below its title, as lines: the parsed failure (stack trace
 * folded unless `stackExpanded`), the other headers (in record order, nulls kept; the
 * dead-letter headers are shown parsed above), the decode error if any, and the decoded value.
 */
export function dlqDetailLines(item: DlqRecord, stackExpanded: boolean): DetailLine[] {
  const { record, failure } = item
  const out = failureDetailLines(failure, stackExpanded)
  if (item.requeued) out.push({ kind: 'field', label: 'requeued', text: requeuedLine(item.requeued) })
  const all = headerLines(record)
  const headers = all.filter((h) => !isFailureHeader(h.key))
  const parsed = all.length - headers.length
  out.push({ kind: 'section', text: `headers (${headers.length})${parsed ? ` + ${parsed} dead-letter header${parsed === 1 ? '' : 's'} parsed above` : ''}:` })
  for (const h of headers) out.push({ kind: 'header', label: oneLine(h.key, 80), text: h.value === null ? '(null)' : oneLine(h.value), isNull: h.value === null, base64: h.encoding === 'base64' })
  if (record.valueDecoded.error) out.push({ kind: 'error', text: `decode: ${oneLine(record.valueDecoded.error)}` })
  out.push({ kind: 'section', text: `value (${record.valueDecoded.kind}):` })
  for (const line of valueLines(record)) out.push({ kind: 'value', text: line.replace(/\t/g, '  ') })
  return out
}

/** `2026-11-28 14:00:00 UTC → payments.events/1`, and the requeue count from the second on. */
export function requeuedLine(r: RequeuedInfo): string {
  return `${new Date(r.at).toISOString().slice(0, 19).replace('T', ' ')} UTC → ${oneLine(r.topic)}/${r.partition}${r.count > 1 ? ` (requeue ${r.count})` : ''}`
}

/** How skip reasons read in the browser (`filtered` = the records that were not marked). */
export function skipReasonLabel(reason: string): string {
  return reason === 'filtered' ? 'not marked' : reason
}

/** `2 not marked, 1 loop-guard`, or `none`. */
export function skippedText(skipped: Record<string, number>, options: { withFiltered?: boolean } = {}): string {
  const parts = Object.entries(skipped)
    .filter(([reason, n]) => n > 0 && (options.withFiltered || reason !== 'filtered'))
    .map(([reason, n]) => `${n} ${skipReasonLabel(reason)}`)
  return parts.length ? parts.join(', ') : 'none'
}

/** Records a plan will send. */
export function planTotal(plan: RequeuePlan): number {
  return plan.targets.reduce((s, t) => s + t.records, 0)
}

/**
 * The confirmation's lines for a plan of `marked` records: what goes where, what is skipped
 * and why, and what an earlier run of the same selection already sent.
 */
export function planLines(plan: RequeuePlan, marked: number): string[] {
  const total = planTotal(plan)
  const lines = [total === 0 ? `Nothing to requeue of the ${marked} marked record${marked === 1 ? '' : 's'}.` : `Requeue ${total} of the ${marked} marked record${marked === 1 ? '' : 's'}?`]
  const unexpected = new Set(plan.unexpectedTargets)
  for (const t of plan.targets) lines.push(`  ${t.records} → ${t.topic}${unexpected.has(t.topic) ? `  ! not this DLQ's origin by its name: y writes there too` : ''}`)
  if (plan.refusedTargets.length) lines.push(`  internal topics, never written: ${plan.refusedTargets.join(', ')}`)
  const skipped = Object.entries(plan.skipped).filter(([reason, n]) => reason !== 'filtered' && n > 0)
  const skippedCount = skipped.reduce((s, [, n]) => s + n, 0)
  if (skippedCount) lines.push(`  skipped: ${skippedText(plan.skipped)}`)
  const earlier = marked - total - skippedCount
  if (earlier > 0) lines.push(`  ${earlier} already requeued by an earlier run of this selection`)
  if (plan.alreadyRequeuedCount) {
    lines.push(`  already requeued, skipped (ledger ${plan.ledger.topic}; dlq requeue --again sends them again): ${plan.alreadyRequeuedCount}`)
    for (const e of plan.alreadyRequeued.slice(0, 3)) lines.push(`    ${requeuedText(e)}`)
    if (plan.alreadyRequeuedCount > 3) lines.push(`    … and ${plan.alreadyRequeuedCount - 3} more`)
  }
  lines.push(`  progress group ${plan.progressGroup}`)
  return lines
}

/** The status line while a requeue runs. */
export function progressText(p: MoveProgress | undefined, marked: number): string {
  if (!p) return `requeue: starting (${marked} marked)…`
  return `requeue: ${p.done}/${p.total} DLQ offsets · ${p.moved} sent`
}

/** The status line after a requeue. */
export function summaryText(s: MoveSummary): string {
  const targets = Object.entries(s.byTarget).map(([t, n]) => `${n} → ${t}`).join(', ')
  return `requeue ${s.interrupted ? 'interrupted' : 'done'}: ${s.moved} sent${targets ? ` (${targets})` : ''} · skipped: ${skippedText(s.skipped, { withFiltered: true })} · ${(s.elapsedMs / 1000).toFixed(1)} s`
}
