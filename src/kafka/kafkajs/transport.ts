/**
 * evt's {@link FetchTransport} on kafkajs's cluster layer: connections, TLS, SASL, metadata and
 * ListOffsets are kafkajs's; Fetch requests are encoded by kafkajs and their responses decoded by
 * evt's decoder (fetch-decoder.ts). kafkajs is pinned (2.2.4): the internals used here are
 * `Kafka[private:Kafka:createCluster]`, `Cluster`, `Broker.lookupRequest` and
 * `Broker.connectionPool.send`. Errors are kafkajs's own (the reader maps them), except connecting.
 */
import { createRequire } from 'node:module'
import kafkajs from 'kafkajs'
import type { Kafka } from 'kafkajs'
import type { Connection } from '../../config/connection.ts'
import { bounded, connectWithin, operationDeadlineMs, watchdog } from '../deadline.ts'
import { decodeFetchResponse, type FetchPartition } from '../fetch-decoder.ts'
import type { FetchOptions, FetchRequestPartition, FetchTransport, Isolation, OffsetQuery } from '../types.ts'
import { retry } from '../retry.ts'
import { CONNECTION_CLOSED_ERROR } from './errors.ts'

const require = createRequire(import.meta.url)

/** Kafka errors of a partition whose leader moved or is being elected (kafkajs's error types; protocol codes 3, 5, 6, 9, 74, 75, 78). */
const LEADER_MOVED = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'REPLICA_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'OFFSET_NOT_AVAILABLE'])

/** Whether a kafkajs error (or the error it wraps) says the partition's leader moved: worth a metadata refresh and a retry. */
export function leaderMoved(err: unknown): boolean {
  for (let e = err as { type?: string; originalError?: unknown } | undefined, depth = 0; e && depth < 3; e = e.originalError as typeof e, depth++) {
    if (typeof e.type === 'string' && LEADER_MOVED.has(e.type)) return true
  }
  return false
}
const { requests } = require('kafkajs/src/protocol/requests/index.js')
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js')

interface KafkaCluster {
  /** kafkajs's private state read here (pinned 2.2.4): the metadata held and the topics it keeps refreshed. */
  brokerPool: { metadata?: { topicMetadata: Array<{ topic: string; topicErrorCode?: number; partitionMetadata: unknown[] }> } }
  targetTopics: Set<string>
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
  connectionPool: { send(request: unknown): Promise<unknown>; getConnectionByRequest(request: { request: { apiKey: number } }): Promise<unknown> }
  lookupRequest(apiKey: number, definition: unknown): (args: Record<string, unknown>) => { request: { apiVersion: number }; response: unknown; requestTimeout: number }
  disconnect(): Promise<void>
}

/**
 * Builds a kafkajs `Cluster` through the client's private factory (same brokers, TLS, SASL,
 * logger). @throws Error if the pinned kafkajs changed shape.
 */
function createCluster(kafka: Kafka, isolation: Isolation): KafkaCluster {
  const k = kafka as unknown as Record<symbol, unknown>
  const factory = Object.getOwnPropertySymbols(k).find((s) => s.description === 'private:Kafka:createCluster')
  if (!factory || !(kafka instanceof kafkajs.Kafka)) throw new Error('kafkajs internals changed: pin kafkajs to 2.2.4')
  return (k[factory] as (o: object) => KafkaCluster)({
    isolationLevel: isolation === 'read_committed' ? 1 : 0,
    allowAutoTopicCreation: false,
    metadataMaxAge: 300_000,
    maxInFlightRequests: null,
  })
}

/** How long the metadata of all topics read by {@link KafkajsFetchTransport.topicNames} may serve {@link KafkajsFetchTransport.loadTopics} without another request, ms. */
const ALL_TOPICS_FRESH_MS = 1000

/**
 * Connects a cluster within `connection.timeoutMs`.
 * @throws EvtError connect/auth (exit 3).
 */
export async function connectFetchTransport(connection: Connection, kafka: Kafka, isolation: Isolation): Promise<FetchTransport> {
  const cluster = createCluster(kafka, isolation)
  await connectWithin(connection, 'connect', () => cluster.connect(), () => cluster.disconnect())
  return new KafkajsFetchTransport(cluster, isolation, operationDeadlineMs(connection))
}

class KafkajsFetchTransport implements FetchTransport {
  private readonly cluster: KafkaCluster
  private readonly isolation: Isolation
  /** Watchdog for each request (operationDeadlineMs), ms. */
  private readonly deadlineMs: number
  /** When the metadata held was last that of every topic (Date.now() ms), by topicNames(). */
  private allTopicsAt = -Infinity

  constructor(cluster: KafkaCluster, isolation: Isolation, deadlineMs: number) {
    this.cluster = cluster
    this.isolation = isolation
    this.deadlineMs = deadlineMs
  }

  /**
   * While no topic is loaded, kafkajs's own metadata refresh asks for every topic: one request serves
   * both (kafkajs's `metadata()` would send two, a refresh and the request), and the answer is kept
   * for a {@link loadTopics} right after.
   */
  async topicNames(): Promise<string[]> {
    if (this.cluster.targetTopics.size === 0) {
      await watchdog('a metadata request', this.deadlineMs, this.cluster.refreshMetadata())
      const held = this.cluster.brokerPool.metadata
      if (held) {
        this.allTopicsAt = Date.now()
        return held.topicMetadata.map((t) => t.topic)
      }
    }
    const { topicMetadata } = await watchdog('a metadata request', this.deadlineMs, this.cluster.metadata({ topics: [] }))
    return topicMetadata.map((t) => t.topic)
  }

  /**
   * Topics that the metadata of every topic, read by topicNames() less than ALL_TOPICS_FRESH_MS
   * ago, holds without error are only added to the topics kafkajs keeps refreshed: no request.
   */
  async loadTopics(topics: string[]): Promise<void> {
    const held = this.cluster.brokerPool.metadata
    if (held && Date.now() - this.allTopicsAt < ALL_TOPICS_FRESH_MS) {
      const known = new Map(held.topicMetadata.map((t) => [t.topic, t]))
      if (topics.every((t) => known.get(t) && !known.get(t)!.topicErrorCode && known.get(t)!.partitionMetadata.length > 0)) {
        for (const t of topics) this.cluster.targetTopics.add(t)
        return
      }
    }
    await watchdog('a metadata request', this.deadlineMs, this.cluster.addMultipleTargetTopics(topics))
  }

  async prepareFetch(leaders: number[]): Promise<void> {
    await Promise.all([...new Set(leaders)].map(async (leader) => {
      try {
        const broker = await watchdog(`a connection to broker ${leader}`, this.deadlineMs, this.cluster.findBroker({ nodeId: String(leader) }))
        await watchdog(`a connection to broker ${leader}`, this.deadlineMs, broker.connectionPool.getConnectionByRequest({ request: { apiKey: apiKeys.Fetch } }))
      } catch {
        /* the first fetch reports it */
      }
    }))
  }

  leaders(topic: string): Array<{ partition: number; leader: number }> {
    return this.cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId, leader: p.leader }))
  }

  async listOffsets(request: Array<{ topic: string; partitions: number[] }>, query: OffsetQuery): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: number }> }>> {
    const opts = query === 'earliest' ? { fromBeginning: true } : query === 'latest' ? { fromBeginning: false } : { fromTimestamp: query.timestamp }
    const send = () => watchdog('a ListOffsets request', this.deadlineMs, this.cluster.fetchTopicsOffset(request.map(({ topic, partitions }) => ({ topic, partitions: partitions.map((partition) => ({ partition })), ...opts }))))
    // kafkajs sends ListOffsets to the leader its metadata names, and does not retry: a leader that moved (a broker
    // restarted, a topic just created) answers "not the leader". Refresh the metadata and ask again, within the deadline.
    const answer = await retry(async (attempt) => {
      if (attempt > 0) await watchdog('a metadata request', this.deadlineMs, this.cluster.refreshMetadata()).catch(() => {})
      return await send()
    }, { untilMs: this.deadlineMs, minDelayMs: 100, maxDelayMs: 1000, shouldRetry: leaderMoved })
    return answer.map(({ topic, partitions }) => ({ topic, partitions: partitions.map(({ partition, offset }) => ({ partition, offset: Number(offset) })) }))
  }

  async fetch(leader: number, parts: FetchRequestPartition[], o: FetchOptions): Promise<FetchPartition[]> {
    const broker = await watchdog(`a connection to broker ${leader}`, this.deadlineMs, this.cluster.findBroker({ nodeId: String(leader) }))
    const topics = new Map<string, Array<{ partition: number; fetchOffset: string; maxBytes: number; currentLeaderEpoch: number; logStartOffset: number }>>()
    for (const p of parts) {
      if (!topics.has(p.topic)) topics.set(p.topic, [])
      topics.get(p.topic)!.push({ partition: p.partition, fetchOffset: String(p.offset), maxBytes: o.partitionMaxBytes, currentLeaderEpoch: -1, logStartOffset: -1 })
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
      const response = (await watchdog(`a fetch from broker ${leader}`, this.deadlineMs + o.maxWaitMs, broker.connectionPool.send(protocolRequest))) as ReturnType<typeof decodeFetchResponse>
      return response.partitions
    } catch (err) {
      if ((err as Error).name === CONNECTION_CLOSED_ERROR || (err as { kind?: string }).kind === 'connect') await bounded(broker.disconnect(), 3000)
      throw err
    }
  }

  async refreshMetadata(): Promise<void> {
    await watchdog('a metadata request', this.deadlineMs, this.cluster.refreshMetadata())
  }

  async close(): Promise<void> {
    await bounded(this.cluster.disconnect(), 3000)
  }
}
