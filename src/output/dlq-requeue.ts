/**
 * Plain renderers for `evt dlq requeue`: plan, progress, summary.
 */
import type { MoveProgress, MoveSummary } from '../replay/move.ts'
import type { AlreadyRequeued, RequeuePlan } from '../services/dlq-requeue.ts'
import { renderTable } from './table.ts'
import { plural } from './plural.ts'

function skippedText(skipped: Record<string, number>): string {
  const parts = Object.entries(skipped).map(([reason, n]) => `${n} ${reason}`)
  return parts.length ? parts.join(', ') : 'none'
}

/** A time as `YYYY-MM-DD HH:MM:SS UTC`. */
function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** `0@3 requeued 2026-11-28 14:00:00 UTC → payments.events/1`: when and where a DLQ record was requeued. */
export function requeuedText(e: Pick<AlreadyRequeued, 'partition' | 'offset' | 'requeuedAt' | 'topic' | 'toPartition'>): string {
  return `${e.partition}@${e.offset} requeued ${utc(e.requeuedAt)} → ${e.topic}/${e.toPartition}`
}

/** Already-requeued records listed in the plain plan (the rest are counted). */
const LISTED = 10

/** The plan: records per target topic and failure class, skipped records by reason, the ledger's already-requeued records. */
export function renderRequeuePlan(plan: RequeuePlan): string {
  const total = plan.targets.reduce((s, t) => s + t.records, 0)
  const lines = [`requeue plan: ${plan.dlqTopic} (progress group ${plan.progressGroup})`]
  lines.push(`requeue ledger ${plan.ledger.topic}: ${plan.ledger.exists ? `${plan.ledger.entries} record${plan.ledger.entries === 1 ? '' : 's'} requeued so far` : 'created by the first requeue'}`)
  const left = plan.partitions.reduce((s, p) => s + (p.end - p.start), 0)
  lines.push(`${plural(left, 'DLQ offset')} left to go through; ${plural(total, 'record')} to send`)
  const unexpected = new Set(plan.unexpectedTargets)
  if (plan.targets.length) lines.push('', renderTable(['TARGET TOPIC', 'RECORDS', ''], plan.targets.map((t) => [t.topic, t.records, unexpected.has(t.topic) ? `! not ${plan.dlqTopic}'s origin by its name: needs --allow-target` : '']), { alignRight: [1] }))
  if (plan.classes.length) lines.push('', renderTable(['FAILURE', 'RECORDS'], plan.classes.map((c) => [c.exception, c.records]), { alignRight: [1] }))
  lines.push('', `skipped: ${skippedText(plan.skipped)}`)
  if (plan.refusedTargets.length) lines.push(`  internal-topic: dead-letter headers name internal or protected topics, never requeued there: ${plan.refusedTargets.join(', ')} (send them elsewhere with --to)`)
  if (plan.alreadyRequeuedCount) {
    const n = plan.alreadyRequeuedCount
    lines.push(plan.again
      ? `  --again: ${n} record${n === 1 ? '' : 's'} the ledger lists as requeued already ${n === 1 ? 'is' : 'are'} sent again:`
      : `  already-requeued: the ledger lists ${n === 1 ? 'it' : 'them'} (--again sends ${n === 1 ? 'it' : 'them'} again):`)
    for (const e of plan.alreadyRequeued.slice(0, LISTED)) lines.push(`    ${requeuedText(e)}`)
    if (n > LISTED) lines.push(`    … and ${n - LISTED} more (--json lists ${plan.alreadyRequeued.length})`)
  }
  if (plan.skipped['loop-guard']) lines.push(`  loop-guard: already requeued --max-requeues times; fix the cause, or raise --max-requeues`)
  if (total === 0) lines.push('nothing to send')
  return lines.join('\n')
}

/** A progress line. */
export function renderRequeueProgress(p: MoveProgress): string {
  return `requeue: ${p.done}/${p.total} DLQ offsets, ${p.moved} sent, skipped ${skippedText(p.skipped)}`
}

/** The summary. */
export function renderRequeueSummary(s: MoveSummary): string {
  const targets = Object.entries(s.byTarget).map(([t, n]) => `${n} → ${t}`).join(', ')
  return `requeue ${s.interrupted ? 'interrupted' : 'done'}: ${plural(s.moved, 'record')} sent${targets ? ` (${targets})` : ''}; skipped ${skippedText(s.skipped)}; ${(s.elapsedMs / 1000).toFixed(1)} s`
}
