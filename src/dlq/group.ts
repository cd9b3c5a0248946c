/**
 * Triage groups for `evt dlq inspect --group-by`: records counted by exception class, triage
 * reason, original topic or Connect stage, with first/last seen (the dead-letter record's
 * timestamp) and a sample message. Streaming: memory grows with the number of groups only.
 */
import { usageError } from '../errors.ts'
import type { DecodedRecord } from '../record.ts'
import { failureMessage, type DlqFailure } from './failure.ts'

/** What to group by. */
export type DlqGroupBy = 'exception' | 'reason' | 'original-topic' | 'stage'
export const DLQ_GROUP_BY: readonly DlqGroupBy[] = ['exception', 'reason', 'original-topic', 'stage']

/**
 * One failure class, `<dimension>=<value>` (dlq requeue --group-by), e.g.
 * `exception=java.net.SocketTimeoutException`; the value may be empty or hold `=`.
 * @throws EvtError usage (exit 2) when it is not that form or names no known dimension.
 */
export function parseGroupSelector(text: string, flag = '--group-by'): { by: DlqGroupBy; value: string } {
  const eq = text.indexOf('=')
  const by = text.slice(0, eq) as DlqGroupBy
  if (eq <= 0 || !DLQ_GROUP_BY.includes(by)) throw usageError(`${flag} "${text}" is not <dimension>=<value>`, `dimensions: ${DLQ_GROUP_BY.join(', ')}; e.g. ${flag} exception=java.net.SocketTimeoutException`)
  return { by, value: text.slice(eq + 1) }
}

/** One group (part of the `dlq inspect --group-by --json` contract). */
export interface DlqGroup {
  /** The exception class / reason / original topic / stage; null when the records do not say. */
  key: string | null
  count: number
  /** Epoch ms of the oldest and newest dead-letter record in the group. */
  firstSeen: number
  lastSeen: number
  /** The first record of the group that has a message (the cause's when the exception only wraps it; else the first record): its message and where it is. */
  sample: { message: string | null; topic: string; partition: number; offset: number }
}

export function groupKey(failure: DlqFailure, by: DlqGroupBy): string | null {
  switch (by) {
    case 'exception':
      return failure.exception ?? null
    case 'reason':
      return failure.reason ?? null
    case 'original-topic':
      return failure.originalTopic ?? null
    case 'stage':
      return failure.stage ?? null
  }
}

/** An accumulator: `add` each record, then `groups()` sorted by count (desc), then key. */
export function createGrouper(by: DlqGroupBy): { add(record: DecodedRecord, failure: DlqFailure): void; groups(): DlqGroup[] } {
  const groups = new Map<string | null, DlqGroup>()
  return {
    add(record, failure) {
      const key = groupKey(failure, by)
      const message = failureMessage(failure) ?? null
      const g = groups.get(key)
      if (!g) {
        groups.set(key, { key, count: 1, firstSeen: record.timestamp, lastSeen: record.timestamp, sample: { message, topic: record.topic, partition: record.partition, offset: Number(record.offset) } })
        return
      }
      g.count++
      g.firstSeen = Math.min(g.firstSeen, record.timestamp)
      g.lastSeen = Math.max(g.lastSeen, record.timestamp)
      if (g.sample.message === null && message !== null) g.sample = { message, topic: record.topic, partition: record.partition, offset: Number(record.offset) }
    },
    groups() {
      return [...groups.values()].sort((a, b) => b.count - a.count || String(a.key ?? '\uffff').localeCompare(String(b.key ?? '\uffff')))
    },
  }
}
