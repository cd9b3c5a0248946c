/**
 * The requeue ledger of a dead-letter topic: which DLQ records were requeued, when and where to.
 *
 * It lives in Kafka, in one compacted topic per DLQ, `<dlq>.evt-requeued` (see
 * docs/ARCHITECTURE.md, "The requeue ledger", for why one per DLQ), so everyone who requeues from
 * that DLQ — any selection, flags or entry point (`dlq requeue`, the `dlq inspect` browser) —
 * shares it. `dlq requeue` writes one ledger record per requeued record in the SAME transaction
 * as the requeued record itself (src/replay/move.ts), so after a crash the ledger lists exactly
 * the records whose copies were committed. Readers read it `read_committed`.
 *
 * Record format (version 1):
 * - key: `<dlq topic>/<partition>/<offset>` (UTF-8), the same text as the `evt-requeued-from`
 *   header of the copy; compaction keeps the newest entry per DLQ record.
 * - value: JSON `{"v":1,"dlq":string,"partition":number,"offset":number,"dlqTimestamp":number,
 *   "requeuedAt":number,"topic":string,"toPartition":number,"requeueCount":number,"progressGroup":string}`
 *   (timestamps epoch ms; `topic`/`toPartition` where the copy went; `requeueCount` the copy's
 *   `evt-requeue-count`; `progressGroup` the run's selection).
 * - timestamp: `requeuedAt`; one partition (entries of one DLQ are few: one per requeued record).
 *
 * An entry whose `dlqTimestamp` differs from the timestamp of the record now at that DLQ offset
 * belongs to an earlier incarnation of a deleted and re-created DLQ and is ignored.
 */
import { EvtError, refusedError } from '../errors.ts'
import { isRequeueLedgerTopic, requeueLedgerTopic } from '../kafka/internal-topics.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { OutgoingRecord } from '../kafka/types.ts'
import type { RawRecord } from '../record.ts'

export { isRequeueLedgerTopic, requeueLedgerTopic }

/** One ledger entry: a DLQ record that was requeued. */
export interface LedgerEntry {
  dlq: string
  partition: number
  offset: number
  /** Timestamp of the DLQ record, epoch ms (tells a re-created DLQ's records apart). */
  dlqTimestamp: number
  /** When the requeue transaction wrote it, epoch ms. */
  requeuedAt: number
  /** Where the copy went. */
  topic: string
  toPartition: number
  /** The copy's `evt-requeue-count`. */
  requeueCount: number
  /** The progress group (selection) of the run that requeued it. */
  progressGroup: string
}

/** What was requeued from one DLQ: entries by `partition/offset`; `exists` false when the ledger topic does not exist yet. */
export interface RequeueLedger {
  topic: string
  exists: boolean
  entries: Map<string, LedgerEntry>
  /** Ledger records that could not be read as entries (not evt's format). */
  malformed: number
}

/** The ledger key of a DLQ record: `topic/partition/offset`. */
export function ledgerKey(dlq: string, partition: number, offset: number | string): string {
  return `${dlq}/${partition}/${offset}`
}

/** The map key of a DLQ record in {@link RequeueLedger.entries}: `partition/offset`. */
function entryId(partition: number, offset: number | string): string {
  return `${partition}/${offset}`
}

/** The ledger record of one requeued DLQ record (written to partition 0 of the ledger topic). */
export function ledgerRecord(entry: LedgerEntry): OutgoingRecord {
  const value = { v: 1, dlq: entry.dlq, partition: entry.partition, offset: entry.offset, dlqTimestamp: entry.dlqTimestamp, requeuedAt: entry.requeuedAt, topic: entry.topic, toPartition: entry.toPartition, requeueCount: entry.requeueCount, progressGroup: entry.progressGroup }
  return { partition: 0, key: Buffer.from(ledgerKey(entry.dlq, entry.partition, entry.offset)), value: Buffer.from(JSON.stringify(value)), headers: [], timestamp: entry.requeuedAt }
}

/** Parses a ledger record; undefined when it is not an entry in evt's format (a tombstone too). */
export function parseLedgerRecord(r: Pick<RawRecord, 'value'>): LedgerEntry | undefined {
  if (!r.value) return undefined
  try {
    const v = JSON.parse(r.value.toString('utf8')) as Record<string, unknown>
    const num = (k: string) => (typeof v[k] === 'number' && Number.isFinite(v[k]) ? (v[k] as number) : undefined)
    const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined)
    const e = { dlq: str('dlq'), partition: num('partition'), offset: num('offset'), dlqTimestamp: num('dlqTimestamp'), requeuedAt: num('requeuedAt'), topic: str('topic'), toPartition: num('toPartition'), requeueCount: num('requeueCount') ?? 1, progressGroup: str('progressGroup') ?? '' }
    if (v.v !== 1 || e.dlq === undefined || e.partition === undefined || e.offset === undefined || e.dlqTimestamp === undefined || e.requeuedAt === undefined || e.topic === undefined || e.toPartition === undefined) return undefined
    return e as LedgerEntry
  } catch {
    return undefined
  }
}

/** The entry for a DLQ record, when it was requeued (and the entry is of this incarnation of the DLQ: same record timestamp). */
export function requeuedEntry(ledger: RequeueLedger | undefined, r: Pick<RawRecord, 'partition' | 'offset' | 'timestamp'>): LedgerEntry | undefined {
  const e = ledger?.entries.get(entryId(r.partition, r.offset))
  return e && e.dlqTimestamp === r.timestamp ? e : undefined
}

/** Adds an entry as if read (the newest entry per DLQ record wins, as compaction keeps it). */
export function addLedgerEntry(ledger: RequeueLedger, entry: LedgerEntry): void {
  ledger.entries.set(entryId(entry.partition, entry.offset), entry)
}

/**
 * Reads the whole ledger of `dlqTopic` (read_committed, from the start to the end taken now).
 * A ledger topic that does not exist yet is an empty ledger (`exists: false`).
 * @throws EvtError connect (3).
 */
export async function readLedger(session: KafkaSession, dlqTopic: string, options: { signal?: AbortSignal; onWarning?: (message: string) => void } = {}): Promise<RequeueLedger> {
  const topic = requeueLedgerTopic(dlqTopic)
  const ledger: RequeueLedger = { topic, exists: false, entries: new Map(), malformed: 0 }
  const admin = await session.admin()
  if (!(await admin.listTopics()).includes(topic)) return ledger
  ledger.exists = true
  const reader = await session.reader('read_committed')
  const plans = await reader.plan([topic], { from: { kind: 'start' }, to: { kind: 'end' } })
  if (!plans.some((p) => p.start < p.end!)) return ledger
  for await (const chunk of reader.read(plans.filter((p) => p.start < p.end!), { maxWaitMs: 100, signal: options.signal, onWarning: options.onWarning })) {
    for (const r of chunk.records) {
      const e = parseLedgerRecord(r)
      if (!e || e.dlq !== dlqTopic) {
        if (r.value !== null) ledger.malformed++
        continue
      }
      addLedgerEntry(ledger, e)
    }
  }
  if (ledger.malformed) options.onWarning?.(`${ledger.malformed} records of ${topic} are not requeue ledger entries and were ignored`)
  return ledger
}

/** How long a run waits for an open transaction on the ledger to end: the broker aborts a crashed run's after 60 s. */
export const LEDGER_SETTLE_MS = 80_000

/**
 * Waits until no transaction is open on the ledger of `dlqTopic` (its last stable offset has
 * reached its high watermark), so that a read_committed read of it sees every committed entry.
 * An open transaction is another requeue of this DLQ running now, or one killed less than a
 * minute ago (the broker aborts it after its 60 s transaction timeout). `onWaiting` is called once
 * when it has to wait.
 * @throws EvtError refused (6) when it is still open after `timeoutMs` (default {@link LEDGER_SETTLE_MS}); connect (3).
 */
export async function settleLedger(session: KafkaSession, dlqTopic: string, options: { timeoutMs?: number; signal?: AbortSignal; onWaiting?: (message: string) => void } = {}): Promise<void> {
  const topic = requeueLedgerTopic(dlqTopic)
  const range = { from: { kind: 'start' as const }, to: { kind: 'end' as const } }
  const deadline = Date.now() + (options.timeoutMs ?? LEDGER_SETTLE_MS)
  let told = false
  for (;;) {
    const stable = await (await session.reader('read_committed')).plan([topic], range)
    const high = await (await session.reader('read_uncommitted')).plan([topic], range)
    if (stable.every((p) => p.end === high.find((h) => h.partition === p.partition)?.end)) return
    if (options.signal?.aborted) return
    if (Date.now() > deadline) throw refusedError(`a transaction on the requeue ledger ${topic} stayed open for ${Math.round((options.timeoutMs ?? LEDGER_SETTLE_MS) / 1000)} s: another requeue of ${dlqTopic} is running`, `wait until it has finished, then run this again (records it requeued are skipped then)`)
    if (!told) options.onWaiting?.(`waiting for an open transaction on ${topic} to end (another requeue of ${dlqTopic} running, or one stopped by a crash less than a minute ago)`)
    told = true
    await new Promise((r) => setTimeout(r, 1000))
  }
}

/**
 * Creates the ledger topic of `dlqTopic` when it does not exist: one partition, `cleanup.policy=compact`,
 * the broker's default replication factor. Creating it concurrently with another run is fine.
 * @throws EvtError connect (3: e.g. not authorized to create topics).
 */
export async function ensureLedger(session: KafkaSession, dlqTopic: string): Promise<string> {
  const topic = requeueLedgerTopic(dlqTopic)
  const admin = await session.admin()
  if ((await admin.listTopics()).includes(topic)) return topic
  try {
    await admin.createTopics([{ topic, partitions: 1, config: { 'cleanup.policy': 'compact' } }])
  } catch (err) {
    if (err instanceof EvtError && (err.kind === 'auth' || err.kind === 'usage')) {
      throw new EvtError(err.kind, `cannot create the requeue ledger ${topic}: ${err.message}`, { hint: `create it once (evt topics create ${topic} -p 1 -c cleanup.policy=compact --yes, with an account allowed to), or ask for permission to create it; evt needs read and write access to it`, cause: err })
    }
    throw err
  }
  return topic
}
