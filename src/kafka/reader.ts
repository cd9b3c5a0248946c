/**
 * Reading Kafka without a consumer group, the way `kcat -C` does: partitions are assigned by
 * evt itself, fetched in parallel from their leaders, and nothing is committed. No group is
 * joined, so there is no rebalance delay before the first record and no group left behind.
 *
 * Transport (connections, TLS, SASL, metadata, ListOffsets) is kafkajs's cluster layer, built
 * through the client's own factory so it shares the configuration. Fetch responses are decoded
 * by evt's decoder (fetch-decoder.ts): header order, duplicates and nulls are kept, and it is
 * several times faster than kafkajs's. kafkajs is pinned (2.2.4): the internals used here are
 * `Kafka[private:Kafka:createCluster]`, `Cluster`, `Broker.lookupRequest` and
 * `Broker.connectionPool.send`.
 */
import { createRequire } from 'node:module'
import kafkajs from 'kafkajs'
import { closest } from 'fastest-levenshtein'
import type { Connection } from '../config/connection.ts'
import { EvtError, mapKafkaError, notFoundError } from '../errors.ts'
import type { RawRecord } from '../record.ts'
import { createKafka, withDeadline } from './client.ts'
import { decodeFetchResponse, type FetchPartition } from './fetch-decoder.ts'
import { resolveRange, timesIn, type PartitionBounds, type PositionRange } from './positions.ts'

const require = createRequire(import.meta.url)
const { requests } = require('kafkajs/src/protocol/requests/index.js')
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js')
const { Kafka } = kafkajs

/** read_committed hides records of aborted transactions and stops at the last stable offset. */
export type Isolation = 'read_committed' | 'read_uncommitted'

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

/** Records of one partition from one fetch, in offset order. */
export interface ReadChunk {
  topic: string
  partition: number
  records: RawRecord[]
  /** The offset the next fetch of this partition starts at. */
  nextOffset: number
  /** High watermark reported with this fetch. */
  highWatermark: number
  /** Bytes of record batches in this chunk (compressed size on the wire). */
  bytes: number
  /**
   * Records in range that are not in `records` because none of {@link ReadOptions.needles} occurs
   * in their batch (0 without needles). `records.length + skipped` is what was read.
   */
  skipped: number
}

/** Tuning and control of {@link KafkaReader.read}. */
export interface ReadOptions {
  /** Stop at the next round when aborted. */
  signal?: AbortSignal
  /** How long the broker may hold a fetch open when there is nothing new, ms (default 500). */
  maxWaitMs?: number
  /** Bytes per partition per fetch (default 1 MiB, as librdkafka); a larger first batch is still returned whole. */
  partitionMaxBytes?: number
  /**
   * Bytes per fetch request (default 8 MiB). Two requests are held at a time (the one being handed
   * out and the prefetch), each also copied once when kafkajs joins the socket chunks: this bounds
   * the memory of a read, whatever the number of partitions.
   */
  requestMaxBytes?: number
  /** Called with a one-line warning (e.g. an offset reset). */
  onWarning?: (message: string) => void
  /**
   * Only records that may contain one of these byte strings are wanted (a search): batches whose
   * bytes contain none of them are counted in {@link ReadChunk.skipped} instead of being decoded
   * into records. Records of batches that do contain one are all returned (filter them exactly).
   */
  needles?: Buffer[]
}

interface KafkaCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  metadata(options?: { topics?: string[] }): Promise<{ topicMetadata: Array<{ topic: string; partitionMetadata: Array<{ partitionId: number; leader: number }> }> }>
  addMultipleTargetTopics(topics: string[]): Promise<void>
  refreshMetadata(): Promise<void>
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>
  findBroker(options: { nodeId: string | number }): Promise<KafkaBroker>
  fetchTopicsOffset(topics: Array<{ topic: string; partitions: Array<{ partition: number }>; fromBeginning?: boolean; fromTimestamp?: number }>): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>
}

interface KafkaBroker {
  lookupRequest(apiKey: number, definition: unknown): (args: Record<string, unknown>) => { request: { apiVersion: number }; response: unknown; requestTimeout: number }
  connectionPool: { send(request: unknown): Promise<unknown> }
  disconnect(): Promise<void>
}

const RETRIABLE_PARTITION_ERRORS = new Set([3, 5, 6, 74, 75, 76, 78, 100]) // unknown topic/partition, leader not available, not leader, fenced/unknown leader epoch, offset not available, unknown topic id, …
const OFFSET_OUT_OF_RANGE = 1
/** How long failing fetches are retried (with backoff and metadata refreshes) before giving up, ms. */
const FETCH_RETRY_MS = 30_000

/**
 * Builds a kafkajs `Cluster` through the client's private factory (same brokers, TLS, SASL,
 * logger). @throws Error if the pinned kafkajs changed shape.
 */
function createCluster(connection: Connection, isolation: Isolation): KafkaCluster {
  const kafka = createKafka(connection) as unknown as Record<symbol, unknown>
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')
  if (!factory || !(kafka instanceof Kafka)) throw new Error('kafkajs internals changed: pin kafkajs to 2.2.4')
  return (kafka[factory] as (o: object) => KafkaCluster)({
    isolationLevel: isolation === 'read_committed' ? 1 : 0,
    allowAutoTopicCreation: false,
    metadataMaxAge: 300_000,
    maxInFlightRequests: null,
  })
}

/**
 * A read-only session with a cluster: lists topics, plans partition ranges from the position
 * grammar, and streams records. Always `close()` it.
 */
export class KafkaReader {
  readonly connection: Connection
  readonly isolation: Isolation
  private readonly cluster: KafkaCluster

  private constructor(connection: Connection, isolation: Isolation, cluster: KafkaCluster) {
    this.connection = connection
    this.isolation = isolation
    this.cluster = cluster
  }

  /**
   * Connects within `connection.timeoutMs`.
   * @throws EvtError connect/auth (exit 3).
   */
  static async open(connection: Connection, isolation: Isolation = 'read_committed'): Promise<KafkaReader> {
    const cluster = createCluster(connection, isolation)
    try {
      await withDeadline(connection, 'connect', cluster.connect())
    } catch (err) {
      await cluster.disconnect().catch(() => {})
      throw err
    }
    return new KafkaReader(connection, isolation, cluster)
  }

  async close(): Promise<void> {
    await this.cluster.disconnect().catch(() => {})
  }

  /** All topic names in the cluster. */
  async topicNames(): Promise<string[]> {
    try {
      const { topicMetadata } = await this.cluster.metadata({ topics: [] })
      return topicMetadata.map((t) => t.topic).sort()
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
        const near = all.length ? closest(t, all) : undefined
        const similar = all.filter((n) => n.toLowerCase().includes(t.toLowerCase()) || t.toLowerCase().includes(n.toLowerCase())).slice(0, 4)
        const hints = [...new Set([near, ...similar].filter(Boolean))] as string[]
        throw notFoundError(`topic "${t}" does not exist`, hints.length ? `did you mean: ${hints.join(', ')}? (list topics with: evt topics)` : 'list topics with: evt topics')
      }
    }
    try {
      await this.cluster.addMultipleTargetTopics(topics)
    } catch (err) {
      throw mapKafkaError(err, { brokers: this.connection.brokers, topic: topics.join(',') })
    }
    const out = new Map<string, number[]>()
    for (const t of topics) out.set(t, this.cluster.findTopicPartitionMetadata(t).map((p) => p.partitionId).sort((a, b) => a - b))
    return out
  }

  /**
   * Low and high watermarks (high = last stable offset under read_committed), and the offsets
   * of the given timestamps, for each partition of each topic.
   */
  async bounds(partitions: Map<string, number[]>, timestamps: number[] = []): Promise<Map<string, PartitionBounds>> {
    const query = (opts: { fromBeginning?: boolean; fromTimestamp?: number }) =>
      this.cluster.fetchTopicsOffset([...partitions].map(([topic, ps]) => ({ topic, partitions: ps.map((partition) => ({ partition })), ...opts })))
    try {
      const [lows, highs, ...times] = await Promise.all([query({ fromBeginning: true }), query({ fromBeginning: false }), ...timestamps.map((t) => query({ fromTimestamp: t }))])
      const result = new Map<string, PartitionBounds>()
      for (const { topic, partitions: ps } of lows) {
        for (const { partition, offset } of ps) result.set(`${topic}/${partition}`, { low: Number(offset), high: Number(offset), timeOffsets: new Map() })
      }
      for (const { topic, partitions: ps } of highs) for (const { partition, offset } of ps) result.get(`${topic}/${partition}`)!.high = Number(offset)
      times.forEach((answer, i) => {
        for (const { topic, partitions: ps } of answer) {
          for (const { partition, offset } of ps) result.get(`${topic}/${partition}`)!.timeOffsets!.set(timestamps[i], Number(offset) < 0 ? null : Number(offset))
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
    const bounds = await this.bounds(meta, timesIn(range))
    const plans: PartitionPlan[] = []
    for (const [topic, ps] of meta) {
      for (const partition of ps) {
        const b = bounds.get(`${topic}/${partition}`)!
        const { start, end } = resolveRange(range, b)
        plans.push({ topic, partition, start, end, low: b.low, high: b.high })
      }
    }
    return plans
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
    const partitionMaxBytes = options.partitionMaxBytes ?? 1024 * 1024
    const requestMaxBytes = options.requestMaxBytes ?? 8 * 1024 * 1024
    const state = new Map<string, { plan: PartitionPlan; next: number }>()
    for (const plan of plans) if (plan.end === undefined || plan.start < plan.end) state.set(`${plan.topic}/${plan.partition}`, { plan, next: plan.start })

    const round = async (): Promise<FetchPartition[]> => {
      const byLeader = new Map<number, Array<{ topic: string; partition: number; next: number }>>()
      const leaders = new Map<string, Map<number, number>>()
      for (const { plan, next } of state.values()) {
        let map = leaders.get(plan.topic)
        if (!map) {
          map = new Map(this.cluster.findTopicPartitionMetadata(plan.topic).map((p) => [p.partitionId, p.leader]))
          leaders.set(plan.topic, map)
        }
        const leader = map.get(plan.partition) ?? -1
        if (!byLeader.has(leader)) byLeader.set(leader, [])
        byLeader.get(leader)!.push({ topic: plan.topic, partition: plan.partition, next })
      }
      const responses = await Promise.all([...byLeader].map(([leader, parts]) => this.fetchFrom(leader, parts, { maxWaitMs, partitionMaxBytes, requestMaxBytes, needles: options.needles })))
      return responses.flat()
    }

    let failures = 0
    let failingSince = 0
    let pending: Promise<FetchPartition[]> | undefined = state.size ? round() : undefined
    try {
      while (pending) {
        let results: FetchPartition[]
        try {
          results = await pending
          failures = 0
        } catch (err) {
          // A dead leader stays in the metadata until the controller fences it (broker.session.timeout.ms,
          // 9 s by default) and elects another: keep retrying for longer than that.
          if (failures++ === 0) failingSince = Date.now()
          if (Date.now() - failingSince > FETCH_RETRY_MS || options.signal?.aborted) throw mapKafkaError(err, { brokers: this.connection.brokers })
          options.onWarning?.(`fetch failed (${(err as Error).message}); refreshing metadata and retrying`)
          await sleep(Math.min(2000, 100 * 2 ** failures))
          await this.cluster.refreshMetadata().catch(() => {})
          pending = round()
          continue
        }
        // records are built one partition at a time, when handed out (not for the whole response and
        // its prefetch at once); where each partition continues is known from the batch headers
        const chunks: Array<() => ReadChunk> = []
        let refresh = false
        for (const part of results) {
          const key = `${part.topic}/${part.partition}`
          const s = state.get(key)
          if (!s) continue
          if (part.errorCode === OFFSET_OUT_OF_RANGE) {
            const b = (await this.bounds(new Map([[part.topic, [part.partition]]]))).get(key)!
            const reset = s.next < b.low ? b.low : b.high
            options.onWarning?.(`${key}: offset ${s.next} is out of range (retained ${b.low}..${b.high}); continuing at ${reset}`)
            s.next = reset
          } else if (RETRIABLE_PARTITION_ERRORS.has(part.errorCode)) {
            refresh = true
          } else if (part.errorCode !== 0) {
            throw new EvtError('internal', `fetch of ${key} failed with Kafka error code ${part.errorCode}`)
          } else {
            const from = s.next
            const end = s.plan.end
            s.next = nextOffset(part, from, end)
            chunks.push(() => this.collect(part, from, end))
            if (part.error) options.onWarning?.(`${key}: ${part.error}`)
          }
          if (s.plan.end !== undefined && s.next >= s.plan.end) state.delete(key)
        }
        if (refresh) await this.cluster.refreshMetadata().catch(() => {})
        pending = state.size && !options.signal?.aborted ? round() : undefined
        for (const make of chunks) {
          if (options.signal?.aborted) break
          const chunk = make()
          if (chunk.records.length || chunk.skipped) yield chunk
        }
        if (options.signal?.aborted) return
      }
    } finally {
      // the caller may stop early (-n, Ctrl-C) while a prefetch is in flight: let it fail quietly
      ;(pending as Promise<FetchPartition[]> | undefined)?.catch(() => {})
    }
  }

  /** Sends one Fetch to a leader for several partitions, decoded by evt's decoder. */
  private async fetchFrom(leader: number, parts: Array<{ topic: string; partition: number; next: number }>, o: { maxWaitMs: number; partitionMaxBytes: number; requestMaxBytes: number; needles?: Buffer[] }): Promise<FetchPartition[]> {
    const broker = await this.cluster.findBroker({ nodeId: String(leader) })
    const topics = new Map<string, Array<{ partition: number; fetchOffset: string; maxBytes: number; currentLeaderEpoch: number; logStartOffset: number }>>()
    for (const p of parts) {
      if (!topics.has(p.topic)) topics.set(p.topic, [])
      topics.get(p.topic)!.push({ partition: p.partition, fetchOffset: String(p.next), maxBytes: o.partitionMaxBytes, currentLeaderEpoch: -1, logStartOffset: -1 })
    }
    const make = broker.lookupRequest(apiKeys.Fetch, requests.Fetch)
    const protocolRequest = make({
      replicaId: -1,
      isolationLevel: this.isolation === 'read_committed' ? 1 : 0,
      maxWaitTime: o.maxWaitMs,
      minBytes: 1,
      maxBytes: o.requestMaxBytes,
      topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
    })
    const apiVersion = protocolRequest.request.apiVersion
    protocolRequest.response = {
      decode: async (raw: Buffer) => decodeFetchResponse(raw, apiVersion, { needles: o.needles, deferRecords: true }),
      parse: async (data: unknown) => data,
    }
    try {
      const response = (await broker.connectionPool.send(protocolRequest)) as ReturnType<typeof decodeFetchResponse>
      return response.partitions
    } catch (err) {
      if ((err as Error).name === 'KafkaJSConnectionClosedError') await broker.disconnect().catch(() => {})
      throw err
    }
  }

  /**
   * Turns one partition's fetch result into records: skips what lies before `from` (a batch
   * may start earlier), control batches, and (read_committed) aborted transactions; stops at
   * `end`. The next offset follows the last whole batch, so compacted gaps and transaction
   * markers are stepped over.
   */
  private collect(part: FetchPartition, from: number, end: number | undefined): ReadChunk {
    const records: RawRecord[] = []
    let next = from
    let bytes = 0
    let skipped = 0
    const aborted = this.isolation === 'read_committed' ? [...part.abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset) : []
    const abortedProducers = new Set<bigint>()
    for (const batch of part.batches) {
      if (batch.lastOffset < from) continue
      next = Math.max(next, batch.lastOffset + 1)
      bytes += batch.sizeBytes
      if (this.isolation === 'read_committed' && batch.isTransactional) {
        while (aborted.length && aborted[0].firstOffset <= batch.lastOffset) abortedProducers.add(aborted.shift()!.producerId)
        if (batch.isControl) {
          if (batch.controlType === 'abort') abortedProducers.delete(batch.producerId)
          continue
        }
        if (abortedProducers.has(batch.producerId)) continue
      }
      if (batch.isControl) continue
      if (batch.unmatched) {
        if (batch.baseOffset >= from && (end === undefined || batch.lastOffset < end)) skipped += batch.unmatched.count
        else for (const r of batch.unmatched.records()) if (r.offset >= from && (end === undefined || r.offset < end)) skipped++
        continue
      }
      for (const r of batch.deferred ? batch.deferred.records() : batch.records) {
        if (r.offset < from) continue
        if (end !== undefined && r.offset >= end) break
        records.push({ topic: part.topic, partition: part.partition, offset: String(r.offset), timestamp: r.timestamp, timestampType: batch.timestampType, key: r.key, value: r.value, headers: r.headers })
      }
    }
    if (end !== undefined) next = Math.min(next, Math.max(end, from))
    return { topic: part.topic, partition: part.partition, records, nextOffset: next, highWatermark: part.highWatermark, bytes, skipped }
  }
}

/**
 * Where a partition continues after this fetch result: past the last whole batch that reaches
 * `from`, but not beyond `end` (what {@link KafkaReader.collect} computes, from batch headers only).
 */
function nextOffset(part: FetchPartition, from: number, end: number | undefined): number {
  let next = from
  for (const batch of part.batches) if (batch.lastOffset >= from) next = Math.max(next, batch.lastOffset + 1)
  return end === undefined ? next : Math.min(next, Math.max(end, from))
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
