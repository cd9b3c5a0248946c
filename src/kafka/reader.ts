/**
 * Reading Kafka without a consumer group, the way `kcat -C` does: partitions are assigned by
 * evt itself, fetched in parallel from their leaders, and nothing is committed. No group is
 * joined, so there is no rebalance delay before the first record and no group left behind.
 *
 * The transport (connections, TLS, SASL, metadata, ListOffsets, raw Fetch requests) is a
 * {@link FetchTransport} from the client adapter (src/kafka/kafkajs/transport.ts today). Fetch
 * responses are decoded by evt's decoder (fetch-decoder.ts): header order, duplicates and nulls
 * are kept. What a fetch result means (records, resets, retries) is decided by the pure functions
 * of fetch-loop.ts; failed fetches are retried with the retry helper (retry.ts).
 */
import type { Connection } from '../config/connection.ts'
import { EvtError, mapKafkaError, notFoundError } from '../errors.ts'
import { closeNames } from '../util/did-you-mean.ts'
import type { FetchPartition } from './fetch-decoder.ts'
import { collect, nextOffset, partitionOutcome, recordOffsets, resetOffset, type ReadChunk } from './fetch-loop.ts'
import { resolveRange, timesIn, type PartitionBounds, type Position, type PositionRange } from './positions.ts'
import { retry } from './retry.ts'
import type { FetchTransport, Isolation, KafkaClient, OffsetQuery } from './types.ts'

export type { Isolation } from './types.ts'
export type { ReadChunk } from './fetch-loop.ts'

/** One partition to read: `[start, end)`; `end` undefined = follow live. */
export interface PartitionPlan {
  topic: string
  partition: number
  start: number
  end?: number
  /** Watermarks when the plan was made. */
  low: number
  high: number
}

/** Tuning and control of {@link KafkaReader.read}. */
export interface ReadOptions {
  /** Stop at the next round when aborted. */
  signal?: AbortSignal
  /** How long the broker may hold a fetch open when there is nothing new, ms (default 500). */
  maxWaitMs?: number
  /**
   * Bytes of fetch responses a read may hold at once (default {@link READ_MEMORY_BUDGET}, 8 MiB).
   * Two requests are held at a time (the one being handed out and the prefetch), each also copied
   * once when the client joins the socket chunks: each request asks for a quarter of the budget, and
   * each partition for at most a quarter of that (at most 1 MiB, as librdkafka). This bounds the
   * memory of a read whatever the number of partitions or records; the explicit sizes below win.
   */
  memoryBudgetBytes?: number
  /** Bytes per partition per fetch (default: from the budget); a larger first batch is still returned whole. */
  partitionMaxBytes?: number
  /** Bytes per fetch request (default: from the budget). */
  requestMaxBytes?: number
  /** Called with a one-line warning (e.g. an offset reset). */
  onWarning?: (message: string) => void
  /**
   * Only records that may contain one of these byte strings are wanted (a search): batches whose
   * bytes contain none of them are counted in {@link ReadChunk.skipped} instead of being decoded
   * into records. Records of batches that do contain one are all returned (filter them exactly).
   */
  needles?: Buffer[]
  /** Hand out only the offsets of the records ({@link ReadChunk.offsets}), no records: for counting. */
  offsetsOnly?: boolean
}

/**
 * One record count to resolve in a partition (see {@link KafkaReader.countRecords}): `count` records from
 * offset `at`, backward (toward `low`) or forward (toward `high`).
 */
export interface CountRequest {
  topic: string
  partition: number
  /** Offsets before this are not counted (the low watermark, or a range start). */
  low: number
  /** Offsets from this on are not counted (the end taken at planning). */
  high: number
  at: number
  count: number
  direction: 'backward' | 'forward'
}

/**
 * The default {@link ReadOptions.memoryBudgetBytes}: 8 MiB, i.e. fetches of 2 MiB (512 KiB per
 * partition). Larger fetches made reading no faster here (the prefetch hides the round trips) and
 * held up to 70 MB more at the peak of a 250 k-record tail (bench/RESULTS.md, "memory").
 */
export const READ_MEMORY_BUDGET = 8 * 1024 * 1024

/**
 * How long failing fetches are retried (with backoff and metadata refreshes) before giving up, ms. A follow
 * (partitions without an end) retries unreachable brokers for as long as it runs.
 */
const FETCH_RETRY_MS = 30_000

/**
 * A read-only view of a cluster: lists topics, plans partition ranges from the position grammar,
 * and streams records. Obtained from a session (`session.reader(isolation)`), which closes it;
 * several reads may run on one reader at once.
 */
export class KafkaReader {
  readonly connection: Connection
  readonly isolation: Isolation
  private readonly transport: FetchTransport

  /** A reader on a connected transport (see {@link KafkaReader.open}). */
  constructor(connection: Connection, isolation: Isolation, transport: FetchTransport) {
    this.connection = connection
    this.isolation = isolation
    this.transport = transport
  }

  /**
   * Connects a fetch transport of `client` within `connection.timeoutMs`.
   * @throws EvtError connect/auth (exit 3).
   */
  static async open(client: KafkaClient, isolation: Isolation = 'read_committed'): Promise<KafkaReader> {
    return new KafkaReader(client.connection, isolation, await client.connectFetchTransport(isolation))
  }

  /** Disconnects. Never throws. */
  async close(): Promise<void> {
    await this.transport.close()
  }

  /** All topic names in the cluster, sorted. */
  async topicNames(): Promise<string[]> {
    try {
      return (await this.transport.topicNames()).sort()
    } catch (err) {
      throw mapKafkaError(err, { brokers: this.connection.brokers })
    }
  }

  /**
   * Checks that the topics exist and loads their metadata.
   * @throws EvtError not-found (exit 4) naming the missing topic and close matches.
   */
  async useTopics(topics: string[]): Promise<Map<string, number[]>> {
    const all = await this.topicNames()
    const known = new Set(all)
    for (const t of topics) {
      if (!known.has(t)) {
        const hints = closeNames(t, all)
        throw notFoundError(`topic "${t}" does not exist`, hints.length ? `did you mean: ${hints.join(', ')}? (list topics with: evt topics)` : 'list topics with: evt topics')
      }
    }
    try {
      await this.transport.loadTopics(topics)
    } catch (err) {
      throw mapKafkaError(err, { brokers: this.connection.brokers, topic: topics.join(',') })
    }
    const out = new Map<string, number[]>()
    for (const t of topics) out.set(t, this.transport.leaders(t).map((p) => p.partition).sort((a, b) => a - b))
    return out
  }

  /**
   * Low and high watermarks (high = last stable offset under read_committed), and the offsets
   * of the given timestamps, for each partition of each topic.
   */
  async bounds(partitions: Map<string, number[]>, timestamps: number[] = []): Promise<Map<string, PartitionBounds>> {
    const query = (q: OffsetQuery) => this.transport.listOffsets([...partitions].map(([topic, ps]) => ({ topic, partitions: ps })), q)
    try {
      const [lows, highs, ...times] = await Promise.all([query('earliest'), query('latest'), ...timestamps.map((timestamp) => query({ timestamp }))])
      const result = new Map<string, PartitionBounds>()
      for (const { topic, partitions: ps } of lows) {
        for (const { partition, offset } of ps) result.set(`${topic}/${partition}`, { low: offset, high: offset, timeOffsets: new Map() })
      }
      for (const { topic, partitions: ps } of highs) for (const { partition, offset } of ps) result.get(`${topic}/${partition}`)!.high = offset
      times.forEach((answer, i) => {
        for (const { topic, partitions: ps } of answer) {
          for (const { partition, offset } of ps) result.get(`${topic}/${partition}`)!.timeOffsets!.set(timestamps[i], offset < 0 ? null : offset)
        }
      })
      return result
    } catch (err) {
      throw mapKafkaError(err, { brokers: this.connection.brokers })
    }
  }

  /**
   * Plans what to read: for each partition (all, or only `onlyPartitions`), `[start, end)` from
   * the range. @throws EvtError usage when a requested partition does not exist.
   */
  async plan(topics: string[], range: PositionRange, onlyPartitions?: number[]): Promise<PartitionPlan[]> {
    const meta = await this.useTopics(topics)
    if (onlyPartitions?.length) {
      // With several topics, a partition may exist in some of them only; one that exists in none is an error.
      const existing = new Set([...meta.values()].flat())
      const missing = onlyPartitions.filter((p) => !existing.has(p))
      if (missing.length) {
        const counts = [...meta].map(([t, ps]) => `${t}: 0..${ps.length - 1}`).join(', ')
        throw new EvtError('not-found', `no partition ${missing.join(',')} in ${[...meta.keys()].map((t) => `"${t}"`).join(', ')}`, { hint: `partitions are ${counts}` })
      }
      for (const [topic, ps] of meta) meta.set(topic, ps.filter((p) => onlyPartitions.includes(p)))
    }
    // the fetch connections open while the offsets are listed (kafkajs keeps them apart from the rest)
    const leaders = [...meta.keys()].flatMap((t) => this.transport.leaders(t).map((p) => p.leader))
    const [bounds] = await Promise.all([this.bounds(meta, timesIn(range)), this.transport.prepareFetch?.(leaders)])
    const plans: PartitionPlan[] = []
    for (const [topic, ps] of meta) {
      for (const partition of ps) {
        const b = bounds.get(`${topic}/${partition}`)!
        const { start, end } = resolveRange(range, b)
        plans.push({ topic, partition, start, end, low: b.low, high: b.high })
      }
    }
    await this.countPositions(range, plans)
    return plans
  }

  /**
   * Replaces the offset arithmetic of the record-count positions (`+N` and `-N` as FROM, `+N` and `-N` as
   * TO) by counted records: transaction markers, compacted-away offsets and (read_committed) aborted
   * records are not records. `-N` starts at the N-th record before the end (the partition start when it
   * has fewer), `+N` after the N-th record from the start, `FROM:+N` ends after the N-th record from FROM.
   */
  private async countPositions(range: PositionRange, plans: PartitionPlan[]): Promise<void> {
    const counted = (p: Position | undefined): p is { kind: 'after-start' | 'before-end' | 'count'; count: number } => p?.kind === 'after-start' || p?.kind === 'before-end' || p?.kind === 'count'
    const request = (p: PartitionPlan, position: { kind: 'after-start' | 'before-end' | 'count'; count: number }): CountRequest => ({
      topic: p.topic,
      partition: p.partition,
      low: p.low,
      high: p.high,
      at: position.kind === 'after-start' ? p.low : position.kind === 'count' ? p.start : p.high,
      count: position.count,
      direction: position.kind === 'before-end' ? 'backward' : 'forward',
    })
    const { from, to } = range
    if (counted(from)) {
      const starts = await this.countRecords(plans.map((p) => request(p, from)))
      plans.forEach((p, i) => (p.start = starts[i]))
    }
    if (counted(to)) {
      const ends = await this.countRecords(plans.map((p) => request(p, to)))
      plans.forEach((p, i) => (p.end = ends[i]))
    }
    for (const p of plans) if (p.end !== undefined) p.end = Math.max(p.start, p.end)
  }

  /**
   * Counts records, not offsets: for each request, where `count` records from `at` end — backward: the
   * offset of the count-th record before `at` (`low` when there are fewer); forward: the offset after the
   * count-th record from `at` (`high` when there are fewer); `at` itself for a count of 0. Transaction
   * markers, compacted-away offsets and, under read_committed, aborted records are not counted.
   * Reads windows of offsets next to `at`, all partitions in one read per round, doubling the window while
   * records are missing (one round when the offsets have no gaps); record objects are not built.
   * @throws EvtError as {@link KafkaReader.read}.
   */
  async countRecords(requests: CountRequest[]): Promise<number[]> {
    const results: Array<number | undefined> = requests.map((r) => (r.count <= 0 ? Math.min(Math.max(r.at, r.low), r.high) : undefined))
    const state = requests.map((r) => ({ need: r.count, edge: Math.min(Math.max(r.at, r.low), r.high), step: r.count + 16 }))
    for (;;) {
      const windows: Array<{ index: number; plan: PartitionPlan }> = []
      requests.forEach((r, i) => {
        if (results[i] !== undefined) return
        const s = state[i]
        const [start, end] = r.direction === 'backward' ? [Math.max(r.low, s.edge - s.step), s.edge] : [s.edge, Math.min(r.high, s.edge + s.step)]
        if (start >= end) results[i] = r.direction === 'backward' ? r.low : r.high
        else windows.push({ index: i, plan: { topic: r.topic, partition: r.partition, start, end, low: r.low, high: r.high } })
      })
      if (windows.length === 0) return results as number[]
      // a partition may be asked about twice (two requests): read each window on its own then
      const batches: Array<typeof windows> = []
      for (const w of windows) {
        const free = batches.find((b) => !b.some((o) => o.plan.topic === w.plan.topic && o.plan.partition === w.plan.partition))
        if (free) free.push(w)
        else batches.push([w])
      }
      for (const batch of batches) {
        const offsets = new Map<string, number[]>(batch.map((w) => [`${w.plan.topic}/${w.plan.partition}`, []]))
        for await (const chunk of this.read(batch.map((w) => w.plan), { offsetsOnly: true, maxWaitMs: 100 })) offsets.get(`${chunk.topic}/${chunk.partition}`)!.push(...(chunk.offsets ?? []))
        for (const { index, plan } of batch) {
          const found = offsets.get(`${plan.topic}/${plan.partition}`)!
          const s = state[index]
          if (found.length >= s.need) {
            results[index] = requests[index].direction === 'backward' ? found[found.length - s.need] : found[s.need - 1] + 1
            continue
          }
          s.need -= found.length
          s.edge = requests[index].direction === 'backward' ? plan.start : plan.end!
          s.step = Math.max(2 * s.step, 2 * s.need)
        }
      }
    }
  }

  /**
   * The number of records in each planned range `[start, end)` (an end is required), counted by reading
   * the range's offsets (see {@link KafkaReader.countRecords} for what is not a record). A full read of the
   * ranges' bytes: callers bound the ranges they count.
   */
  async countRanges(plans: PartitionPlan[]): Promise<number[]> {
    const counts = new Map<string, number>(plans.map((p) => [`${p.topic}/${p.partition}`, 0]))
    for await (const chunk of this.read(plans, { offsetsOnly: true, maxWaitMs: 100 })) {
      const key = `${chunk.topic}/${chunk.partition}`
      counts.set(key, counts.get(key)! + (chunk.offsets?.length ?? 0))
    }
    return plans.map((p) => counts.get(`${p.topic}/${p.partition}`)!)
  }

  /**
   * Streams the planned partitions, one chunk per partition per fetch, until every bounded
   * partition reached its end (forever for live ones, until `signal` aborts). Partitions on
   * different leaders are fetched in parallel, and the next fetch is in flight while the caller
   * handles the current chunks; memory is bounded by two rounds of fetch responses.
   * @throws EvtError when the cluster becomes unreachable (after retries) or a fetch fails hard.
   */
  async *read(plans: PartitionPlan[], options: ReadOptions = {}): AsyncGenerator<ReadChunk> {
    const maxWaitMs = options.maxWaitMs ?? 500
    const budget = options.memoryBudgetBytes ?? READ_MEMORY_BUDGET
    const requestMaxBytes = options.requestMaxBytes ?? Math.max(64 * 1024, Math.floor(budget / 4))
    const partitionMaxBytes = options.partitionMaxBytes ?? Math.min(1024 * 1024, Math.max(16 * 1024, Math.floor(requestMaxBytes / 4)))
    const state = new Map<string, { plan: PartitionPlan; next: number }>()
    for (const plan of plans) if (plan.end === undefined || plan.start < plan.end) state.set(`${plan.topic}/${plan.partition}`, { plan, next: plan.start })

    const round = async (): Promise<FetchPartition[]> => {
      const byLeader = new Map<number, Array<{ topic: string; partition: number; offset: number }>>()
      const leaders = new Map<string, Map<number, number>>()
      for (const { plan, next } of state.values()) {
        let map = leaders.get(plan.topic)
        if (!map) {
          map = new Map(this.transport.leaders(plan.topic).map((p) => [p.partition, p.leader]))
          leaders.set(plan.topic, map)
        }
        const leader = map.get(plan.partition) ?? -1
        if (!byLeader.has(leader)) byLeader.set(leader, [])
        byLeader.get(leader)!.push({ topic: plan.topic, partition: plan.partition, offset: next })
      }
      const responses = await Promise.all([...byLeader].map(([leader, parts]) => this.transport.fetch(leader, parts, { maxWaitMs, partitionMaxBytes, requestMaxBytes, needles: options.needles })))
      return responses.flat()
    }

    // a follow (no end offset anywhere: tail -f, trace --follow) outlives a cluster that is down or restarting
    const following = plans.length > 0 && plans.every((p) => p.end === undefined)
    let pending: Promise<FetchPartition[]> | undefined = state.size ? round() : undefined
    try {
      while (pending) {
        let results: FetchPartition[]
        const first: Promise<FetchPartition[]> = pending
        let failingSince: number | undefined
        try {
          // A dead leader stays in the metadata until the controller fences it (broker.session.timeout.ms,
          // 9 s by default) and elects another: keep retrying for longer than that.
          results = await retry(async (attempt) => {
            if (attempt === 0) return await first
            await this.transport.refreshMetadata().catch(() => {})
            pending = round()
            return await pending
          }, {
            untilMs: following ? undefined : FETCH_RETRY_MS,
            minDelayMs: 200,
            maxDelayMs: 2000,
            shouldRetry: (err) => {
              failingSince ??= Date.now()
              if (options.signal?.aborted) return false
              // following: unreachable brokers are retried until stopped; other failures for FETCH_RETRY_MS
              return !following || Date.now() - failingSince <= FETCH_RETRY_MS || mapKafkaError(err, { brokers: this.connection.brokers }).kind === 'connect'
            },
            onRetry: (err) => options.onWarning?.(`fetch failed (${err.message}); refreshing metadata and retrying`),
          })
        } catch (err) {
          throw mapKafkaError(err, { brokers: this.connection.brokers })
        }
        // records are built one partition at a time, when handed out (not for the whole response and
        // its prefetch at once); where each partition continues is known from the batch headers
        const chunks: Array<() => ReadChunk> = []
        let refresh = false
        for (const part of results) {
          const key = `${part.topic}/${part.partition}`
          const s = state.get(key)
          if (!s) continue
          const outcome = partitionOutcome(part.errorCode)
          if (outcome === 'reset') {
            const b = (await this.bounds(new Map([[part.topic, [part.partition]]]))).get(key)!
            const reset = resetOffset(s.next, b)
            options.onWarning?.(`${key}: offset ${s.next} is out of range (retained ${b.low}..${b.high}); continuing at ${reset}`)
            s.next = reset
          } else if (outcome === 'retry') {
            refresh = true
          } else if (outcome === 'fail') {
            throw new EvtError('internal', `fetch of ${key} failed with Kafka error code ${part.errorCode}`)
          } else {
            const from = s.next
            const end = s.plan.end
            s.next = nextOffset(part, from, end)
            const highWatermark = part.highWatermark
            const continueAt = s.next
            chunks.push(() => options.offsetsOnly
              ? { topic: part.topic, partition: part.partition, records: [], offsets: recordOffsets(part, from, end, this.isolation), nextOffset: continueAt, highWatermark, bytes: 0, skipped: 0 }
              : collect(part, from, end, this.isolation))
            if (part.error) options.onWarning?.(`${key}: ${part.error}`)
          }
          if (s.plan.end !== undefined && s.next >= s.plan.end) state.delete(key)
        }
        if (refresh) await this.transport.refreshMetadata().catch(() => {})
        pending = state.size && !options.signal?.aborted ? round() : undefined
        for (const make of chunks) {
          if (options.signal?.aborted) break
          const chunk = make()
          if (chunk.records.length || chunk.skipped || chunk.offsets?.length) yield chunk
        }
        if (options.signal?.aborted) return
      }
    } finally {
      // the caller may stop early (-n, Ctrl-C) while a prefetch is in flight: let it fail quietly
      ;(pending as Promise<FetchPartition[]> | undefined)?.catch(() => {})
    }
  }
}
