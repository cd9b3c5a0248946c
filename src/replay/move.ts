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
import { retry } from '../kafka/retry.ts'
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
   * src/dlq/ledger.ts), after the slice's moved records; not counted as moved.
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
  /** Called with each slice of records before `decide` sees them (e.g. to fetch their registry schemas). */
  prepare?: (records: RawRecord[]) => Promise<void>
  /** At most this many source records per second. */
  rate?: number
  signal?: AbortSignal
  onProgress?: (progress: MoveProgress) => void
  /** Source records per transaction (default 2000; smaller with a rate). */
  sliceRecords?: number
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
 * Runs (or resumes) a move. @throws EvtError connect (3) / not-found (4); on a failure mid-way
 * the open transaction is aborted and a later run resumes.
 */
export async function moveExactlyOnce(session: KafkaSession, options: MoveOptions): Promise<MoveSummary> {
  // connecting fences an earlier producer with this transactional id
  const connectProducer = () => session.transactionalWriter(options.transactionalId)
  // Connecting (and settling an earlier run's transaction) needs the transaction coordinator, which
  // may be moving after a broker failure: retry like a failed transaction.
  let producer: TransactionalWriter = await retrying(connectProducer, options.onRetry)
  /** A fresh producer (which settles the failed one's transaction), then the committed progress. */
  const recover = async (): Promise<Map<number, number>> => {
    await bounded(producer.close())
    return retry(async () => {
      producer = await connectProducer()
      return await progressOffsets(session, options.progressGroup, options.source)
    }, { ...BACKOFF, retries: RETRIES, shouldRetry: (err) => !isNonRetriable(err) })
  }
  const reader = await session.reader('read_committed')
  const progress: MoveProgress = { moved: 0, skipped: {}, done: 0, total: options.partitions.reduce((s, p) => s + Math.max(0, p.end - p.start), 0), startedAt: Date.now(), byTarget: {} }
  let interrupted = false
  try {
    const state = await retrying(() => progressState(session, options.progressGroup, options.source), options.onRetry)
    await reader.useTopics([options.source])
    const plans: PartitionPlan[] = options.partitions
      .map((p) => ({ topic: options.source, partition: p.partition, start: Math.min(p.end, Math.max(p.start, state.get(p.partition)?.offset ?? p.start)), end: p.end, low: p.start, high: p.end }))
    // the counts committed with the progress; a run before these notes existed: counting starts where it stopped
    const notes = new Map(plans.map((p) => [p.partition, state.get(p.partition)?.note ?? { from: p.start, moved: 0, skipped: {} }]))
    progress.done = plans.reduce((s, p, i) => s + (p.start - options.partitions[i].start), 0)
    const cursor = new Map(plans.map((p) => [p.partition, p.start]))
    const slice = options.sliceRecords ?? (options.rate ? Math.max(1, Math.min(2000, Math.ceil(options.rate / 2))) : 2000)
    let readThisRun = 0
    const turns = new LoopTurns()
    for await (const chunk of reader.read(plans.filter((p) => p.start < p.end!), { signal: options.signal, maxWaitMs: 100 })) {
      for (let i = 0; i < chunk.records.length && !interrupted; i += slice) {
        if (options.signal?.aborted) {
          interrupted = true
          break
        }
        const part = chunk.records.slice(i, i + slice)
        const nextOffset = i + slice >= chunk.records.length ? chunk.nextOffset : Number(part[part.length - 1].offset) + 1
        const byTopic = new Map<string, OutgoingRecord[]>()
        const alsoByTopic = new Map<string, OutgoingRecord[]>()
        const skipped: Record<string, number> = {}
        if (options.prepare) await options.prepare(part)
        for (const r of part) {
          if (turns.due()) {
            await turns.yield() // Ctrl-C is observed while a slow filter decides; this slice is not sent
            if (options.signal?.aborted) {
              interrupted = true
              break
            }
          }
          const d = options.decide(r)
          if ('skip' in d) {
            skipped[d.skip] = (skipped[d.skip] ?? 0) + 1
            continue
          }
          if (!byTopic.has(d.topic)) byTopic.set(d.topic, [])
          byTopic.get(d.topic)!.push({ key: d.key, value: d.value, headers: d.headers, partition: d.partition, timestamp: d.timestamp })
          for (const a of d.also ?? []) {
            if (!alsoByTopic.has(a.topic)) alsoByTopic.set(a.topic, [])
            alsoByTopic.get(a.topic)!.push(a.record)
          }
        }
        if (interrupted) break
        // One transaction: the records and the source offsets after them. When it fails (a leader or
        // coordinator moving, a broker gone), a new producer fences the old one and settles its open
        // transaction; the progress group then says whether the commit went through, and if not the
        // same slice is sent again.
        const before = notes.get(chunk.partition)!
        const sentNow = [...byTopic.values()].reduce((n, m) => n + m.length, 0)
        const note: ProgressNote = { from: before.from, moved: before.moved + sentNow, skipped: { ...before.skipped } }
        for (const [reason, n] of Object.entries(skipped)) note.skipped[reason] = (note.skipped[reason] ?? 0) + n
        let recovering = false
        await retry(async (attempt) => {
          if (attempt > 0) {
            recovering = true
            const committedNow = await recover()
            recovering = false
            if ((committedNow.get(chunk.partition) ?? -1) >= nextOffset) return // the commit had gone through
          }
          let begun = false
          try {
            await producer.begin()
            begun = true
            // The offsets go first: the coordinator may still be writing the previous commit's markers, and
            // the writer waits for that on this request (AddOffsetsToTxn). Sends first would meet it in their
            // AddPartitionsToTxn, which the client retries only after 100 ms or more; a slice whose records
            // were all filtered out has no send, and its offsets met it unhandled: a failed transaction.
            await producer.sendOffsets({ group: options.progressGroup, topic: options.source, partition: chunk.partition, offset: nextOffset, metadata: encodeProgressNote(note) })
            for (const [topic, messages] of byTopic) for (let j = 0; j < messages.length; j += 500) await producer.send(topic, messages.slice(j, j + 500))
            for (const [topic, messages] of alsoByTopic) for (let j = 0; j < messages.length; j += 500) await producer.send(topic, messages.slice(j, j + 500))
            if (options.signal?.aborted) {
              await producer.abort()
              interrupted = true
              return
            }
            await producer.commit()
          } catch (err) {
            if (begun) await bounded(producer.abort()) // against a dead coordinator this may never answer; the next producer settles it
            throw err
          }
        }, {
          ...BACKOFF,
          retries: RETRIES,
          // a failed recovery (no producer, no progress after RETRIES tries) ends the move, and so
          // does a refusal that a retry would only repeat (authorization, invalid topic, too large)
          shouldRetry: (err) => !recovering && !options.signal?.aborted && !isNonRetriable(err),
          onRetry: options.onRetry,
        })
        if (interrupted) break
        notes.set(chunk.partition, note)
        for (const [topic, messages] of byTopic) {
          progress.moved += messages.length
          progress.byTarget[topic] = (progress.byTarget[topic] ?? 0) + messages.length
        }
        for (const [reason, n] of Object.entries(skipped)) progress.skipped[reason] = (progress.skipped[reason] ?? 0) + n
        progress.done += nextOffset - cursor.get(chunk.partition)!
        cursor.set(chunk.partition, nextOffset)
        readThisRun += part.length
        options.onProgress?.({ ...progress })
        if (options.rate) {
          const wait = progress.startedAt + (readThisRun / options.rate) * 1000 - Date.now()
          if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        }
      }
      if (interrupted) break
    }
    if (options.signal?.aborted) interrupted = true
    return { ...progress, elapsedMs: Date.now() - progress.startedAt, interrupted }
  } finally {
    await bounded(producer.close())
  }
}
