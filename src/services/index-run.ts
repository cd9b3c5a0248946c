/**
 * `evt index run`: one worker of a trace index. It joins the consumer group `_evt-index-<name>`
 * (Kafka spreads the partitions of the topics over every worker of the group), extracts each
 * record's ids with trace's envelope extractors, and stores one pointer row per record that has
 * one (src/trace/pointers.ts), batch by batch. A batch's rows and the reach they extend are stored
 * in one transaction, and the group offset is committed only after that: a worker killed at any
 * point leaves no gap (the batch is read again) and no duplicate (rows are unique on topic,
 * partition, offset).
 */
import { RegistryDecoder } from '../codec/registry.ts'
import { createExtractor, createTypeFallback, type EnvelopeConfig } from '../envelope/index.ts'
import type { IndexBatch, IndexStore, PointerRow } from '../index-store/types.ts'
import { indexGroup } from '../kafka/evt-ids.ts'
import type { KafkaSession } from '../kafka/session.ts'
import type { ConsumedBatch } from '../kafka/types.ts'
import { pointerRow } from '../trace/pointers.ts'
import { selectTopics } from './trace.ts'

/** What one worker should index. */
export interface IndexRunOptions {
  /** Index name: the group is `_evt-index-<name>`. */
  name: string
  /** Topic names or globs (as `evt trace -t`); default: every topic but internal ones. */
  topics?: string[]
  store: IndexStore
  /** Stop once the group has committed up to the end offsets taken at start, on every partition. */
  exit?: boolean
  /** Stops the worker (it leaves the group; stored batches stay committed). */
  signal?: AbortSignal
  envelope?: Partial<EnvelopeConfig>
  /** Fail (exit 3) when the schema registry cannot be reached, instead of indexing records undecoded. */
  strict?: boolean
  /** Called at most every `progressEveryMs` while batches are stored (the end is the returned result). */
  onProgress?: (progress: IndexProgress) => void
  /** Default 1000 ms. */
  progressEveryMs?: number
  onWarning?: (message: string) => void
  /** How often the end condition (`exit`) and retention are checked, ms (default 500). */
  checkEveryMs?: number
}

/** One partition this worker has indexed. */
export interface IndexPartitionProgress {
  topic: string
  partition: number
  /** The next offset to index. */
  next: number
  /** The end offset taken at start (with `exit`). */
  end?: number
}

/** Where a worker stands. */
export interface IndexProgress {
  group: string
  store: string
  topics: string[]
  /** Records this worker looked at, and the pointer rows it stored for them (rows already stored included). */
  records: number
  rows: number
  partitions: IndexPartitionProgress[]
  /** True once the group reached the end offsets taken at start (with `exit`). */
  caughtUp: boolean
  elapsedMs: number
}

/** How a worker ended. */
export interface IndexRunResult extends IndexProgress {
  stopped: 'caught-up' | 'interrupted'
}

/** How often rows older than the topics' retention are deleted, ms. */
const RETENTION_EVERY_MS = 10 * 60_000

/**
 * Runs one index worker until `signal` aborts or (with `exit`) the group has caught up.
 * @throws EvtError connect (3) for Kafka or the store, not-found (4) for a topic.
 */
export async function runIndex(session: KafkaSession, options: IndexRunOptions): Promise<IndexRunResult> {
  const started = Date.now()
  const { connection } = session
  const group = indexGroup(options.name)
  const reader = await session.reader('read_committed')
  const topics = selectTopics(await reader.topicNames(), options.topics)
  const envelope = options.envelope ?? connection.envelope
  const extract = createExtractor(envelope)
  const typeOf = createTypeFallback(envelope)
  const decoder = new RegistryDecoder(connection.registry, { onWarning: options.onWarning, strict: options.strict, timeoutMs: Math.min(connection.timeoutMs, 5000) })
  const ends = options.exit ? await reader.bounds(await reader.useTopics(topics)) : undefined
  const admin = await session.admin()
  const retentionMs = await longestRetention(session, topics, options.onWarning)
  const progress = new Map<string, IndexPartitionProgress>()
  const state: IndexProgress = { group, store: options.store.description, topics, records: 0, rows: 0, partitions: [], caughtUp: false, elapsedMs: 0 }
  const snapshot = (): IndexProgress => ({ ...state, partitions: [...progress.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition), elapsedMs: Date.now() - started })
  let lastProgress = 0
  const report = (force = false) => {
    if (!options.onProgress) return
    if (!force && Date.now() - lastProgress < (options.progressEveryMs ?? 1000)) return
    lastProgress = Date.now()
    options.onProgress(snapshot())
  }

  const write = groupCommit(options.store)
  const handle = async (batch: ConsumedBatch) => {
    const rows: PointerRow[] = []
    if (batch.records.length) {
      await decoder.prepare(batch.records)
      for (const raw of batch.records) {
        const decoded = decoder.decodeRecord(raw)
        const meta = extract(decoded)
        if (meta.eventType === undefined) meta.eventType = typeOf(decoded)?.type
        const row = pointerRow(raw, meta)
        if (row) rows.push(row)
      }
    }
    await write({ rows, reach: [{ topic: batch.topic, partition: batch.partition, from: batch.fetchedOffset, next: batch.nextOffset }] })
    state.records += batch.records.length
    state.rows += rows.length
    const key = `${batch.topic}/${batch.partition}`
    progress.set(key, { topic: batch.topic, partition: batch.partition, next: batch.nextOffset, end: ends?.get(key)?.high })
    report()
  }

  const consumer = await session.groupConsumer(group, topics)
  const onAbort = () => void consumer.stop()
  if (options.signal?.aborted) onAbort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  let checking = false
  let lastRetention = 0
  let checkFailing = false
  const check = async () => {
    if (checking) return
    checking = true
    try {
      if (retentionMs !== undefined && Date.now() - lastRetention >= RETENTION_EVERY_MS) {
        lastRetention = Date.now()
        await options.store.deleteOlderThan(Date.now() - retentionMs)
      }
      if (ends && !state.caughtUp) {
        const committed = new Map<string, number>()
        for (const t of await admin.committedOffsets(group, topics)) {
          for (const p of t.partitions) if (p.offset !== null && p.offset >= 0) committed.set(`${t.topic}/${p.partition}`, p.offset)
        }
        const done = [...ends].every(([key, b]) => b.high <= b.low || (committed.get(key) ?? -1) >= b.high)
        if (done) {
          state.caughtUp = true
          await consumer.stop()
        }
      }
      checkFailing = false
    } catch (error) {
      // a worker outlives a slow or restarting cluster: the next check tries again (kafkajs's consumer retries on its own)
      if (!checkFailing) options.onWarning?.(`could not check the group's progress or the retention (${(error as Error).message}); trying again`)
      checkFailing = true
      return
    } finally {
      checking = false
    }
  }
  const timer = setInterval(() => void check(), options.checkEveryMs ?? 500)
  try {
    await check()
    await consumer.run(handle)
  } finally {
    clearInterval(timer)
    options.signal?.removeEventListener('abort', onAbort)
    await consumer.stop()
  }
  return { ...snapshot(), stopped: state.caughtUp ? 'caught-up' : 'interrupted' }
}

/**
 * Group commit: batches handed in while the store is busy (the group consumer hands several
 * partitions' batches at once) are stored together, in one transaction. Each call resolves once its
 * batch is stored, or rejects with the store's error; nothing is stored twice (a failed write
 * fails every batch in it, and the group reads them again).
 */
export function groupCommit(store: Pick<IndexStore, 'write'>): (batch: IndexBatch) => Promise<void> {
  let pending: Array<{ batch: IndexBatch; resolve: () => void; reject: (error: unknown) => void }> = []
  let running = false
  const flush = async () => {
    while (pending.length) {
      const take = pending
      pending = []
      try {
        await store.write(take.length === 1 ? take[0]!.batch : { rows: take.flatMap((t) => t.batch.rows), reach: take.flatMap((t) => t.batch.reach) })
        for (const t of take) t.resolve()
      } catch (error) {
        for (const t of take) t.reject(error)
      }
    }
    running = false
  }
  return (batch) =>
    new Promise<void>((resolve, reject) => {
      pending.push({ batch, resolve, reject })
      if (running) return
      running = true
      // the first write waits one turn of the event loop, so that batches handed in together go together
      setImmediate(() => void flush())
    })
}

/**
 * The longest `retention.ms` of the topics (rows older than it point at deleted records), or
 * undefined when one keeps records forever (-1) or the configuration cannot be read.
 */
async function longestRetention(session: KafkaSession, topics: string[], onWarning?: (message: string) => void): Promise<number | undefined> {
  try {
    const admin = await session.admin()
    let longest = 0
    for (const t of topics) {
      const ms = Number((await admin.topicConfig(t))['retention.ms'] ?? -1)
      if (!Number.isFinite(ms) || ms < 0) return undefined
      longest = Math.max(longest, ms)
    }
    return longest || undefined
  } catch (err) {
    onWarning?.(`the topics' retention could not be read (${(err as Error).message}); rows are kept until \`evt index drop\``)
    return undefined
  }
}
