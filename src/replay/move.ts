/**
 * Moving records exactly once: read a fixed offset range of a source topic without a consumer
 * group (the session's read_committed reader), decide per record where it goes (or why it is
 * skipped), and write with a {@link TransactionalWriter} that also commits the covered source
 * offsets to a progress group in the same transaction (AddOffsetsToTxn + TxnOffsetCommit). Used by
 * replay and by dlq requeue.
 *
 * A crash, `kill -9` or abort leaves whole transactions only; the next run with the same
 * transactional id fences the old producer, reads the progress group's committed offsets and
 * continues from there, so a read_committed consumer of the targets sees each source record once.
 */
import { isCoordinatorNotReady, isNonRetriable } from '../errors.ts'
import { bounded as boundedWait } from '../kafka/deadline.ts'
import type { PartitionPlan } from '../kafka/reader.ts'
import { retry, retryDelay } from '../kafka/retry.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { OrderedHeader, OutgoingRecord, TransactionalWriter } from '../kafka/types.ts'
import type { RawRecord } from '../record.ts'
import { LoopTurns } from '../util/event-loop.ts'

/** Where one record goes. */
export interface MoveTarget {
  topic: string
  partition: number
  key: Buffer | null
  value: Buffer | null
  headers: OrderedHeader[]
  /** Epoch ms; undefined = the time of the write. */
  timestamp?: number
  /**
   * Records written in the same transaction as this one (e.g. its entry in the requeue ledger,
   * src/dlq/ledger.ts), sent with it or right after it; not counted as moved.
   */
  also?: Array<{ topic: string; record: OutgoingRecord }>
}

/** A record's fate: a target, or a skip with a short reason label (counted per label). */
export type MoveDecision = MoveTarget | { skip: string }

/** What to move. */
export interface MoveOptions {
  source: string
  /** Source partitions and their fixed `[start, end)` ranges. */
  partitions: Array<{ partition: number; start: number; end: number }>
  transactionalId: string
  progressGroup: string
  decide: (record: RawRecord) => MoveDecision
  /** Called with each run of a chunk's records in one transaction before `decide` sees them (e.g. to fetch their registry schemas). */
  prepare?: (records: RawRecord[]) => Promise<void>
  /** At most this many source records per second. */
  rate?: number
  signal?: AbortSignal
  onProgress?: (progress: MoveProgress) => void
  /**
   * At most this many source records per transaction (default {@link TRANSACTION_RECORDS}; with a
   * rate, half a second's worth, at most 2000). A transaction also ends after {@link TRANSACTION_MS}.
   */
  sliceRecords?: number
  /** A transaction ends once it has been open this long, ms (default {@link TRANSACTION_MS}). */
  transactionMs?: number
  /** Called when a transaction failed and is retried (attempt counts from 1). */
  onRetry?: (error: Error, attempt: number) => void
}

/** How often a failed transaction (or reconnecting after it) is retried before giving up: with the backoff, about a minute. */
const RETRIES = 15

/** Waits for `promise` at most `ms` (default 10 s), ignoring its outcome: for clean-ups that may hang on a dead broker. */
async function bounded(promise: Promise<unknown>, ms = 10_000): Promise<void> {
  await boundedWait(promise, ms)
}

/** Backoff between attempts: 250 ms, doubling, at most 5 s. */
const BACKOFF = { minDelayMs: 250, maxDelayMs: 5000 }

/** Runs `fn`, retrying with backoff (about 30 s in all) while the cluster is not available. */
async function retrying<T>(fn: () => Promise<T>, onRetry?: (error: Error, attempt: number) => void): Promise<T> {
  return retry(() => fn(), {
    ...BACKOFF,
    retries: 8,
    shouldRetry: (err) => {
      const kind = (err as { kind?: string }).kind
      return (kind === undefined || kind === 'connect') && !isNonRetriable(err)
    },
    onRetry,
  })
}

/** Counters, updated as the move runs. */
export interface MoveProgress {
  /** Records written by this run. */
  moved: number
  /** Records skipped by this run, by reason. */
  skipped: Record<string, number>
  /** Source offsets covered so far, earlier runs included. */
  done: number
  /** Source offsets in the whole range. */
  total: number
  /** When this run started, epoch ms. */
  startedAt: number
  /** Records written per target topic by this run. */
  byTarget: Record<string, number>
}

/** How a move ended. */
export interface MoveSummary extends MoveProgress {
  elapsedMs: number
  /** Stopped by the signal: the open transaction was aborted. */
  interrupted: boolean
}

/** Committed offsets of a progress group on a topic, by partition. @throws EvtError connect (3). */
export async function progressOffsets(session: KafkaSession, group: string, topic: string): Promise<Map<number, number>> {
  return new Map([...(await progressState(session, group, topic))].map(([partition, p]) => [partition, p.offset]))
}

/**
 * What a move has done on one source partition, over all its runs: committed as the metadata of
 * the progress offset, in the same transaction as the records, so it is exact after any crash.
 * Stored as JSON, `{"v":1,"from":<offset>,"moved":<records>,"skipped":{"<reason>":<records>}}`;
 * `from` is the source offset counting began at (the range's start, unless an earlier evt without
 * these notes had already moved part of it).
 */
export interface ProgressNote {
  from: number
  moved: number
  skipped: Record<string, number>
}

/** The metadata string of a {@link ProgressNote}. */
export function encodeProgressNote(note: ProgressNote): string {
  return JSON.stringify({ v: 1, from: note.from, moved: note.moved, skipped: note.skipped })
}

/** A committed metadata string → {@link ProgressNote}; null when absent or not one of evt's notes. */
export function parseProgressNote(metadata: string | null | undefined): ProgressNote | null {
  if (!metadata) return null
  try {
    const n = JSON.parse(metadata) as { v?: unknown; from?: unknown; moved?: unknown; skipped?: unknown }
    if (n.v !== 1 || typeof n.from !== 'number' || typeof n.moved !== 'number' || typeof n.skipped !== 'object' || n.skipped === null) return null
    return { from: n.from, moved: n.moved, skipped: n.skipped as Record<string, number> }
  } catch {
    return null
  }
}

/**
 * Runs `fn` again while the group or transaction coordinator it needs is not ready
 * ({@link isCoordinatorNotReady}: loading after a broker start, or moving), for at most `untilMs`
 * (the command's --timeout) after the first such failure, with backoff from 100 ms to 2 s. Any other
 * error, and the last one after `untilMs`, is thrown as it is.
 */
export function whileCoordinatorLoads<T>(fn: () => Promise<T>, options: { untilMs: number; signal?: AbortSignal }): Promise<T> {
  return retry(() => fn(), { minDelayMs: 100, maxDelayMs: 2000, untilMs: options.untilMs, signal: options.signal, shouldRetry: isCoordinatorNotReady })
}

/**
 * Committed offsets of a progress group on a topic with their notes, by partition. Waits for a
 * group coordinator that is still loading (at most the connection's timeout).
 * @throws EvtError connect (3).
 */
export async function progressState(session: KafkaSession, group: string, topic: string): Promise<Map<number, { offset: number; note: ProgressNote | null }>> {
  const admin = await session.admin()
  const out = new Map<number, { offset: number; note: ProgressNote | null }>()
  const committed = await whileCoordinatorLoads(() => admin.committedOffsets(group, [topic]), { untilMs: session.connection.timeoutMs })
  for (const t of committed) for (const p of t.partitions) if (p.offset !== null && p.offset >= 0) out.set(p.partition, { offset: p.offset, note: parseProgressNote(p.metadata) })
  return out
}

/**
 * Source records one transaction covers at most (without a rate): large enough that the fixed
 * round trips of a transaction (AddOffsetsToTxn + TxnOffsetCommit twice, EndTxn) are a small part
 * of its time, small enough that a failed one is redone quickly (bench/RESULTS.md, "replay").
 */
export const TRANSACTION_RECORDS = 50_000

/** A transaction is committed once it has been open this long, ms (checked between fetched chunks). */
export const TRANSACTION_MS = 1000

/**
 * Bytes (keys, values, headers) of one partition's records in one Produce request: a request goes
 * out when a partition has this much, so that its record batch stays below the target's
 * `max.message.bytes` (1 MiB by default).
 */
const SEND_PARTITION_BYTES = 256 * 1024

/** Bytes of records in one Produce request (all partitions): a request goes out when this much is waiting. */
const SEND_BYTES = 2 * 1024 * 1024

/** A failure of the transactional producer (a send, the offsets, the commit): the transaction is redone. */
class WriteFailure extends Error {
  readonly error: unknown
  constructor(error: unknown) {
    super((error as Error)?.message ?? String(error))
    this.error = error
  }
}

/** Runs a producer operation; its failure becomes a {@link WriteFailure}. */
async function writing<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (err) {
    throw new WriteFailure(err)
  }
}

function outgoingBytes(r: OutgoingRecord): number {
  let n = 24 + (r.key?.length ?? 0) + (r.value?.length ?? 0)
  for (const h of r.headers) n += h.key.length + (h.value?.length ?? 0) + 2
  return n
}

/** What the open transaction covers, applied to the move's counters when it commits. */
interface OpenTransaction {
  openedAt: number
  /** Source records read into it (moved and skipped). */
  records: number
  /** Per source partition: the offset after the last record it covers, and the partition's note with it. */
  covers: Map<number, { offset: number; note: ProgressNote }>
  moved: number
  byTarget: Record<string, number>
  skipped: Record<string, number>
}

/**
 * Runs (or resumes) a move. @throws EvtError connect (3) / not-found (4); on a failure mid-way
 * the open transaction is aborted and a later run resumes.
 *
 * A transaction covers up to {@link TRANSACTION_RECORDS} source records (or `sliceRecords`) of all
 * partitions, or what was read in {@link TRANSACTION_MS}: its first request commits the starting
 * offset of one partition again (waiting while the coordinator completes the previous commit), the
 * records go out as they are decided, one Produce request for all target partitions at a time (the
 * next is prepared while one is in flight), and before EndTxn one TxnOffsetCommit carries every
 * covered partition's offset and note. When a write fails, the transaction is aborted, a new
 * producer fences the old one, and reading starts again at the committed offsets: the failed
 * transaction is redone from the source (nothing of it is held in memory).
 */
export async function moveExactlyOnce(session: KafkaSession, options: MoveOptions): Promise<MoveSummary> {
  // connecting fences an earlier producer with this transactional id
  const connectProducer = () => session.transactionalWriter(options.transactionalId)
  // Connecting (and settling an earlier run's transaction) needs the transaction coordinator, which
  // may be moving after a broker failure: retry like a failed transaction.
  let producer: TransactionalWriter = await retrying(connectProducer, options.onRetry)
  /** A fresh producer (which settles the failed one's transaction), then the committed progress. */
  const recover = async (): Promise<Map<number, { offset: number; note: ProgressNote | null }>> => {
    await bounded(producer.close())
    return retry(async () => {
      producer = await connectProducer()
      return await progressState(session, options.progressGroup, options.source)
    }, { ...BACKOFF, retries: RETRIES, shouldRetry: (err) => !isNonRetriable(err) })
  }
  const reader = await session.reader('read_committed')
  const progress: MoveProgress = { moved: 0, skipped: {}, done: 0, total: options.partitions.reduce((s, p) => s + Math.max(0, p.end - p.start), 0), startedAt: Date.now(), byTarget: {} }
  const maxRecords = options.sliceRecords ?? (options.rate ? Math.max(1, Math.min(2000, Math.ceil(options.rate / 2))) : TRANSACTION_RECORDS)
  const maxMs = options.transactionMs ?? TRANSACTION_MS
  const range = new Map(options.partitions.map((p) => [p.partition, p]))
  let interrupted = false
  let readThisRun = 0
  let txn: OpenTransaction | undefined
  /** The transaction open when a copy failed (its commit may have gone through). */
  let failed: OpenTransaction | undefined
  /** Transactions committed by this run. */
  let commits = 0

  /** Copies from the committed offsets in `state` to the ends; returns when done or interrupted. */
  const copyFrom = async (state: Map<number, { offset: number; note: ProgressNote | null }>): Promise<void> => {
    const plans: PartitionPlan[] = options.partitions
      .map((p) => ({ topic: options.source, partition: p.partition, start: Math.min(p.end, Math.max(p.start, state.get(p.partition)?.offset ?? p.start)), end: p.end, low: p.start, high: p.end }))
    // the counts committed with the progress; a run before these notes existed: counting starts where it stopped
    const notes = new Map(plans.map((p) => [p.partition, state.get(p.partition)?.note ?? { from: p.start, moved: 0, skipped: {} }]))
    const cursor = new Map(plans.map((p) => [p.partition, p.start]))
    progress.done = plans.reduce((s, p) => s + (p.start - range.get(p.partition)!.start), 0)

    // records decided and not sent yet, by target topic and partition
    let waiting = new Map<string, Map<number, OutgoingRecord[]>>()
    let waitingBytes = 0
    let partitionBytes = new Map<string, number>()
    let inFlight: Promise<void> | undefined
    const send = async (): Promise<void> => {
      if (waitingBytes === 0) return
      const batches = [...waiting].flatMap(([topic, parts]) => [{ topic, records: [...parts.values()].flat() }])
      waiting = new Map()
      waitingBytes = 0
      partitionBytes = new Map()
      if (inFlight) await inFlight
      const sent = writing(() => producer.sendBatch(batches))
      sent.catch(() => {}) // awaited before the next send or the commit
      inFlight = sent
    }
    const add = async (topic: string, record: OutgoingRecord): Promise<void> => {
      let parts = waiting.get(topic)
      if (!parts) waiting.set(topic, (parts = new Map()))
      let list = parts.get(record.partition)
      if (!list) parts.set(record.partition, (list = []))
      list.push(record)
      const bytes = outgoingBytes(record)
      const key = `${topic}/${record.partition}`
      const inPartition = (partitionBytes.get(key) ?? 0) + bytes
      partitionBytes.set(key, inPartition)
      waitingBytes += bytes
      if (inPartition >= SEND_PARTITION_BYTES || waitingBytes >= SEND_BYTES) await send()
    }
    const begin = async (partition: number): Promise<void> => {
      await writing(() => producer.begin())
      txn = { openedAt: Date.now(), records: 0, covers: new Map(), moved: 0, byTarget: {}, skipped: {} }
      // The offsets go first: the coordinator may still be writing the previous commit's markers, and
      // the writer waits for that on this request (AddOffsetsToTxn). Sends first would meet it in their
      // AddPartitionsToTxn, which the client retries only after 100 ms or more. This commits one
      // partition's committed offset again; the offsets after the transaction's records follow at its end.
      await writing(() => producer.sendOffsets({ group: options.progressGroup, topic: options.source, partitions: [{ partition, offset: cursor.get(partition)!, metadata: encodeProgressNote(notes.get(partition)!) }] }))
    }
    const abort = async (): Promise<void> => {
      if (!txn) return
      txn = undefined
      await inFlight?.catch(() => {})
      inFlight = undefined
      await bounded(producer.abort()) // against a dead coordinator this may never answer; the next producer settles it
    }
    const commit = async (): Promise<void> => {
      const t = txn!
      await send()
      if (inFlight) await inFlight
      inFlight = undefined
      if (options.signal?.aborted) {
        await abort()
        interrupted = true
        return
      }
      const partitions = [...t.covers].map(([partition, c]) => ({ partition, offset: c.offset, metadata: encodeProgressNote(c.note) }))
      await writing(() => producer.sendOffsets({ group: options.progressGroup, topic: options.source, partitions }))
      await writing(() => producer.commit())
      txn = undefined
      committed(t)
      for (const [partition, c] of t.covers) {
        notes.set(partition, c.note)
        progress.done += c.offset - cursor.get(partition)!
        cursor.set(partition, c.offset)
      }
      options.onProgress?.({ ...progress })
      if (options.rate) {
        const wait = progress.startedAt + (readThisRun / options.rate) * 1000 - Date.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      }
    }

    const turns = new LoopTurns()
    try {
      for await (const chunk of reader.read(plans.filter((p) => p.start < p.end!), { signal: options.signal, maxWaitMs: 100 })) {
        if (chunk.records.length === 0) {
          // markers or skipped batches only: the open transaction covers them too
          const covered = txn?.covers.get(chunk.partition)
          if (covered) covered.offset = chunk.nextOffset
          continue
        }
        for (let i = 0; i < chunk.records.length;) {
          if (options.signal?.aborted) {
            interrupted = true
            break
          }
          if (!txn) await begin(chunk.partition)
          const t = txn!
          const part = chunk.records.slice(i, i + maxRecords - t.records)
          if (options.prepare) await options.prepare(part)
          const covered = t.covers.get(chunk.partition)
          const before = covered?.note ?? notes.get(chunk.partition)!
          const note: ProgressNote = { from: before.from, moved: before.moved, skipped: { ...before.skipped } }
          for (const r of part) {
            if (turns.due()) {
              await turns.yield() // Ctrl-C is observed while a slow filter decides; this transaction is not committed
              if (options.signal?.aborted) {
                interrupted = true
                break
              }
            }
            const d = options.decide(r)
            if ('skip' in d) {
              note.skipped[d.skip] = (note.skipped[d.skip] ?? 0) + 1
              t.skipped[d.skip] = (t.skipped[d.skip] ?? 0) + 1
              continue
            }
            await add(d.topic, { key: d.key, value: d.value, headers: d.headers, partition: d.partition, timestamp: d.timestamp })
            note.moved++
            t.moved++
            t.byTarget[d.topic] = (t.byTarget[d.topic] ?? 0) + 1
            for (const a of d.also ?? []) await add(a.topic, a.record)
          }
          if (interrupted) break
          i += part.length
          t.records += part.length
          t.covers.set(chunk.partition, { offset: i >= chunk.records.length ? chunk.nextOffset : Number(part[part.length - 1].offset) + 1, note })
          if (t.records >= maxRecords || Date.now() - t.openedAt >= maxMs) await commit()
          if (interrupted) break
        }
        if (interrupted) break
      }
      if (options.signal?.aborted) interrupted = true
      if (interrupted) await abort()
      else if (txn) await commit()
    } catch (err) {
      failed = txn
      await abort()
      throw err
    }
  }

  /** Adds a committed transaction to the counters. */
  const committed = (t: OpenTransaction): void => {
    progress.moved += t.moved
    for (const [topic, n] of Object.entries(t.byTarget)) progress.byTarget[topic] = (progress.byTarget[topic] ?? 0) + n
    for (const [reason, n] of Object.entries(t.skipped)) progress.skipped[reason] = (progress.skipped[reason] ?? 0) + n
    readThisRun += t.records
    commits++
  }

  try {
    let state = await retrying(() => progressState(session, options.progressGroup, options.source), options.onRetry)
    await reader.useTopics([options.source])
    // failed transactions since the last commit
    let failures = 0
    let commitsBefore = commits
    for (;;) {
      failed = undefined
      try {
        await copyFrom(state)
        break
      } catch (err) {
        if (commits !== commitsBefore) failures = 0
        commitsBefore = commits
        // a failed recovery (no producer, no progress after RETRIES tries) ends the move, and so does a
        // refusal that a retry would only repeat (authorization, invalid topic, too large); a failure to
        // read or decide is not the producer's, and ends it too
        if (!(err instanceof WriteFailure)) throw err
        const cause = err.error as Error
        if (options.signal?.aborted) {
          interrupted = true
          break
        }
        if (failures >= RETRIES || isNonRetriable(cause)) throw cause
        failures++
        options.onRetry?.(cause, failures)
        await new Promise((r) => setTimeout(r, retryDelay(failures, BACKOFF)))
        // When it fails (a leader or coordinator moving, a broker gone), a new producer fences the old one
        // and settles its open transaction; the progress group then says whether the commit went through
        // (then its counts are this run's), and reading continues from the committed offsets.
        const last = failed as OpenTransaction | undefined
        state = await recover()
        if (last && last.covers.size && [...last.covers].every(([partition, c]) => state.get(partition)?.offset === c.offset && state.get(partition)?.note?.moved === c.note.moved)) committed(last)
        commitsBefore = commits
      }
    }
    if (options.signal?.aborted) interrupted = true
    return { ...progress, elapsedMs: Date.now() - progress.startedAt, interrupted }
  } finally {
    await bounded(producer.close())
  }
}
