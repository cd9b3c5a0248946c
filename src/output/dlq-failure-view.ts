/**
 * One view model of a DLQ record's parsed failure, rendered by both the plain output of
 * `evt dlq inspect` (src/output/dlq.ts) and the browser's detail pane (src/ui/dlq/format.ts): what
 * is shown, in which order, with which labels and time formats is decided here once; the
 * renderers only lay it out (indentation and colours, or detail lines).
 */
import type { DlqFailure } from '../dlq/failure.ts'
import { NO_TIMESTAMP, recordTimeText } from '../time.ts'

/** A failure as shown: labels and texts, not yet escaped or coloured. */
export interface FailureView {
  /** False when the record has no dead-letter headers (framework `unknown`): nothing else is set. */
  known: boolean
  /** spring-dlt, kafka-connect, …: see DlqFailure.framework. */
  framework: string
  /** The exception class, or `(no exception class)`. */
  exception: string
  /** The exception message, when the headers give one. */
  message?: string
  /** The key, not the value, failed to deserialize. */
  keyFailure: boolean
  /** The other fields, in order (cause, from, group, connector, stage, retries, reason); only those known. */
  fields: Array<{ label: string; value: string }>
  /** Malformed dead-letter headers, one text each (`malformed <header>: <why>`). */
  warnings: string[]
  /** The stack trace, whole (renderers fold it). */
  stacktrace?: string
}

/** A time as `YYYY-MM-DD HH:MM:SSZ` (UTC), or the no-timestamp text for −1. */
export function failureTime(at: number): string {
  const text = recordTimeText(at)
  return text === NO_TIMESTAMP ? text : text.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

/** Where the record failed: `topic/partition@offset  <time> (<type>)`, or undefined when unknown. */
function origin(f: DlqFailure): string | undefined {
  if (f.originalTopic === undefined && f.originalPartition === undefined && f.originalOffset === undefined) return undefined
  let s = `${f.originalTopic ?? '?'}${f.originalPartition === undefined ? '' : `/${f.originalPartition}`}${f.originalOffset === undefined ? '' : `@${f.originalOffset}`}`
  if (f.originalTimestamp !== undefined) s += `  ${failureTime(f.originalTimestamp)}${f.originalTimestampType ? ` (${f.originalTimestampType})` : ''}`
  return s
}

/** The view model of a parsed failure (pure). */
export function failureView(f: DlqFailure): FailureView {
  if (f.framework === 'unknown') return { known: false, framework: f.framework, exception: '', keyFailure: false, fields: [], warnings: [] }
  const fields: FailureView['fields'] = []
  const field = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== '') fields.push({ label, value })
  }
  field('cause', f.cause !== undefined ? `${f.cause}${f.causeMessage !== undefined ? `: ${f.causeMessage}` : ''}` : f.causeMessage)
  field('from', origin(f))
  field('group', f.consumerGroup)
  field('connector', [f.connector, f.task !== undefined ? `task ${f.task}` : undefined].filter(Boolean).join(' ') || undefined)
  field('stage', f.stage !== undefined ? `${f.stage}${f.stageClass ? ` (${f.stageClass})` : ''}` : undefined)
  const counts = [
    f.attempts !== undefined ? `attempts ${f.attempts}` : undefined,
    f.redeliveries !== undefined ? `redeliveries ${f.redeliveries}` : undefined,
    f.backoffTimestamp !== undefined ? `next attempt ${failureTime(f.backoffTimestamp)}` : undefined,
  ].filter(Boolean).join('  ')
  field('retries', counts || undefined)
  field('reason', f.reason)
  return {
    known: true,
    framework: f.framework,
    exception: f.exception ?? '(no exception class)',
    message: f.message,
    keyFailure: Boolean(f.keyFailure),
    fields,
    warnings: (f.warnings ?? []).map((w) => `malformed ${w}`),
    stacktrace: f.stacktrace || undefined,
  }
}
