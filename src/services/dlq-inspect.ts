/**
 * `evt dlq inspect <topic>`: the records of a dead-letter topic, each with its parsed failure,
 * or triage groups of them. Reads like `tail --exit` (tailRecords: no consumer group, bounded by
 * the end offsets taken at start), then parses the dead-letter headers and filters on record
 * and failure. Records the DLQ's requeue ledger (src/dlq/ledger.ts, read once at the start)
 * lists are marked with when and where to they were requeued.
 */
import type { KafkaSession } from '../kafka/session.ts'
import { parseFailure, type DlqFailure } from '../dlq/failure.ts'
import type { DlqRecordFilter } from '../dlq/filter.ts'
import { LoopTurns } from '../util/event-loop.ts'
import { createGrouper, type DlqGroup, type DlqGroupBy } from '../dlq/group.ts'
import { readLedger, requeuedEntry, type RequeueLedger } from '../dlq/ledger.ts'
import type { Isolation } from '../kafka/reader.ts'
import type { PositionRange } from '../kafka/positions.ts'
import type { DecodedRecord } from '../record.ts'
import { tailRecords, type TailStats } from './tail.ts'

/** What to inspect. */
export interface DlqInspectOptions {
  topic: string
  /** Positions; an open end is closed at the end offsets taken at start (always bounded). */
  range: PositionRange
  partitions?: number[]
  filter?: DlqRecordFilter
  /** Stop after this many matching records. */
  maxMessages?: number
  isolation?: Isolation
  signal?: AbortSignal
  onWarning?: (message: string) => void
  /** Fail (exit 3) when the schema registry cannot be reached, instead of showing records raw. */
  strict?: boolean
}

/** When and where to a DLQ record was requeued (its newest requeue ledger entry). */
export interface RequeuedInfo {
  /** Epoch ms. */
  at: number
  topic: string
  partition: number
  /** The copy's `evt-requeue-count`. */
  count: number
}

/** A dead-letter record, its parsed failure, and its requeue (when the ledger lists it). */
export interface DlqRecord {
  record: DecodedRecord
  failure: DlqFailure
  requeued?: RequeuedInfo
}

/** The requeue of a DLQ record the ledger lists, else undefined. */
export function requeuedInfo(ledger: RequeueLedger | undefined, record: Pick<DecodedRecord, 'partition' | 'offset' | 'timestamp'>): RequeuedInfo | undefined {
  const e = requeuedEntry(ledger, record)
  return e ? { at: e.requeuedAt, topic: e.topic, partition: e.toPartition, count: e.requeueCount } : undefined
}

/** Counters of an inspection: records read, records that passed the filters. */
export interface DlqInspectStats {
  scanned: number
  matched: number
  bytes: number
}

/** Triage groups of a DLQ (the `--group-by --json` contract). */
export interface DlqGroupResult {
  topic: string
  groupBy: DlqGroupBy
  /** Records read, and records that passed the filters (and were grouped). */
  scanned: number
  matched: number
  groups: DlqGroup[]
}

function bounded(range: PositionRange): PositionRange {
  return range.to ? range : { ...range, to: { kind: 'end' } }
}

/**
 * Streams the records of a DLQ with their failures, in chunks, filtered, until the range ends,
 * `maxMessages` is reached or `signal` aborts.
 * @throws EvtError connect (3), not-found (4), usage (2).
 */
export async function* inspectDlq(session: KafkaSession, options: DlqInspectOptions, stats: DlqInspectStats = { scanned: 0, matched: 0, bytes: 0 }): AsyncGenerator<DlqRecord[]> {
  const limit = options.maxMessages ?? Infinity
  if (limit <= 0) return
  const read: TailStats = { scanned: 0, matched: 0, bytes: 0 }
  // the ledger is an annotation: when it cannot be read (no access to it, say), the records are shown without it
  const ledger = await readLedger(session, options.topic, { signal: options.signal, onWarning: options.onWarning }).catch((err: unknown) => {
    // not reachable: the DLQ cannot be read either, so that error is the one to show
    if ((err as { kind?: string }).kind === 'connect') throw err
    options.onWarning?.(`the requeue ledger of ${options.topic} could not be read (${(err as Error).message.split('\n')[0]}); records are shown without their requeues`)
    return undefined
  })
  const source = tailRecords(session, { topics: [options.topic], range: bounded(options.range), partitions: options.partitions, isolation: options.isolation, signal: options.signal, onWarning: options.onWarning, strict: options.strict }, read)
  const turns = new LoopTurns()
  for await (const chunk of source) {
    const out: DlqRecord[] = []
    for (const record of chunk) {
      if (turns.due()) {
        await turns.yield() // Ctrl-C is observed while a slow filter runs
        if (options.signal?.aborted) break
      }
      const failure = parseFailure(record.headers)
      if (options.filter && !options.filter(record, failure)) continue
      const requeued = requeuedInfo(ledger, record)
      out.push(requeued ? { record, failure, requeued } : { record, failure })
      if (stats.matched + out.length >= limit) break
    }
    stats.scanned = read.scanned
    stats.bytes = read.bytes
    stats.matched += out.length
    if (out.length) yield out
    if (stats.matched >= limit) return
  }
}

/**
 * Reads the DLQ like {@link inspectDlq} and counts the matching records by `groupBy`.
 * @throws EvtError connect (3), not-found (4), usage (2).
 */
export async function groupDlq(session: KafkaSession, options: DlqInspectOptions & { groupBy: DlqGroupBy }): Promise<DlqGroupResult> {
  const grouper = createGrouper(options.groupBy)
  const stats: DlqInspectStats = { scanned: 0, matched: 0, bytes: 0 }
  for await (const chunk of inspectDlq(session, options, stats)) for (const { record, failure } of chunk) grouper.add(record, failure)
  return { topic: options.topic, groupBy: options.groupBy, scanned: stats.scanned, matched: stats.matched, groups: grouper.groups() }
}
