/**
 * Provenance headers evt writes on the records it copies, and their parser (used by trace to link
 * a copy to its source instead of calling it a duplicate):
 *
 * - `replay --to-topic` (src/services/replay.ts) appends `evt-replay-source: <topic>/<partition>/<offset>`
 *   and `evt-replay-id: <replay id>`; a copy of a copy carries several, the last is its own;
 * - `dlq requeue` (src/services/dlq-requeue.ts) sets `evt-requeued-from: <dlq topic>/<partition>/<offset>`
 *   and `evt-requeue-count: <n>` (replacing earlier ones).
 *
 * Topic names cannot contain `/`, so the value splits at its last two slashes.
 */
import type { RecordHeader } from '../record.ts'

/** Header naming the record a replayed copy came from (`topic/partition/offset`). */
export const REPLAY_SOURCE_HEADER = 'evt-replay-source'
/** Header with the id of the replay that wrote a copy. */
export const REPLAY_ID_HEADER = 'evt-replay-id'
/** Header that counts how often a record was requeued. */
export const REQUEUE_COUNT_HEADER = 'evt-requeue-count'
/** Header naming the dead-letter record a requeued record came from (`topic/partition/offset`). */
export const REQUEUED_FROM_HEADER = 'evt-requeued-from'

/** Where a copy written by evt came from. */
export interface Provenance {
  /** `replay`: a `replay --to-topic` copy; `requeue`: a record requeued from a DLQ. */
  kind: 'replay' | 'requeue'
  topic: string
  partition: number
  /** Decimal string (int64). */
  offset: string
  /** The replay's id (replay only). */
  replayId?: string
  /** The `evt-requeue-count` (requeue only). */
  requeueCount?: number
}

function lastText(headers: RecordHeader[], key: string): string | undefined {
  let found: string | undefined
  for (const h of headers) if (h.key === key && h.value !== null) found = h.value.toString('utf8')
  return found
}

/** `topic/partition/offset` → its parts; undefined when malformed. */
export function parseSourceRef(text: string): { topic: string; partition: number; offset: string } | undefined {
  const m = /^(.+)\/(\d{1,10})\/(\d{1,19})$/.exec(text)
  return m ? { topic: m[1], partition: Number(m[2]), offset: m[3] } : undefined
}

/**
 * The provenance of a record evt copied, from its headers, or undefined for any other record (or
 * malformed headers). A record with both (a requeued record that had been replayed) is the newer
 * copy's: the requeue, whose header is rewritten on each requeue, unless the replay header comes after it.
 */
export function parseProvenance(headers: RecordHeader[]): Provenance | undefined {
  let requeueAt = -1
  let replayAt = -1
  headers.forEach((h, i) => {
    if (h.key === REQUEUED_FROM_HEADER) requeueAt = i
    else if (h.key === REPLAY_SOURCE_HEADER) replayAt = i
  })
  if (requeueAt < 0 && replayAt < 0) return undefined
  if (requeueAt > replayAt) {
    const ref = parseSourceRef(headers[requeueAt].value?.toString('utf8') ?? '')
    if (!ref) return undefined
    const count = Number(lastText(headers, REQUEUE_COUNT_HEADER))
    return { kind: 'requeue', ...ref, ...(Number.isInteger(count) && count > 0 ? { requeueCount: count } : {}) }
  }
  const ref = parseSourceRef(headers[replayAt].value?.toString('utf8') ?? '')
  if (!ref) return undefined
  const replayId = lastText(headers, REPLAY_ID_HEADER)
  return { kind: 'replay', ...ref, ...(replayId !== undefined ? { replayId } : {}) }
}
