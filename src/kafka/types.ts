/**
 * evt's own Kafka interfaces: what services and domain code need from a Kafka client, in evt's
 * types. A client adapter (one folder under src/kafka/, today src/kafka/kafkajs/) implements them;
 * nothing outside that folder knows which client library is used.
 *
 * Units: offsets are JS numbers (exact below 2^53), timestamps epoch ms, durations ms, sizes bytes.
 * Errors: every method throws {@link EvtError}s (mapped once, by the adapter, through
 * `mapKafkaError`): connect/auth (exit 3) when the cluster cannot be reached or refuses the
 * credentials, not-found (exit 4) for an unknown topic or group, usage (exit 2) when the broker
 * refuses a write, internal (exit 1) otherwise.
 */
import type { Connection } from '../config/connection.ts'
import type { FetchPartition } from './fetch-decoder.ts'

/** read_committed hides records of aborted transactions and stops at the last stable offset. */
export type Isolation = 'read_committed' | 'read_uncommitted'

/** A header as evt reads and writes it: order kept, duplicates kept, null allowed. */
export interface OrderedHeader {
  key: string
  value: Buffer | null
}

// ---------------------------------------------------------------------------------------------
// Admin

/** One partition of a topic's metadata. */
export interface PartitionMetadata {
  partition: number
  /** Broker id of the leader (-1 when there is none). */
  leader: number
  /** Broker ids of the replicas and of the in-sync replicas. */
  replicas: number[]
  isr: number[]
}

/** A topic and its partitions (in partition order as the broker reports them). */
export interface TopicMetadata {
  name: string
  partitions: PartitionMetadata[]
}

/** A topic to create. */
export interface NewTopic {
  topic: string
  partitions: number
  /** Default: the broker's default replication factor. */
  replicationFactor?: number
  /** Topic configuration (e.g. `cleanup.policy: compact`). */
  config?: Record<string, string>
}

/** Low and high watermark of one partition. */
export interface PartitionWatermarks {
  partition: number
  /** First offset still in the log. */
  low: number
  /** Offset of the next record to be written. */
  high: number
}

/** An offset of one partition, or null when there is none (no commit; no record at or after a time). */
export interface PartitionOffset {
  partition: number
  offset: number | null
  /** The metadata string committed with the offset (committed offsets only; null or absent: none). */
  metadata?: string | null
}

/** A consumer group as listed. */
export interface GroupListing {
  groupId: string
  /** `consumer` for Kafka consumers; '' or another protocol (connect, …) otherwise. */
  protocolType: string
}

/** A member of a group with its assigned partitions (decoded for the `consumer` protocol; [] otherwise). */
export interface GroupMemberDescription {
  memberId: string
  clientId: string
  host: string
  assignments: Array<{ topic: string; partitions: number[] }>
}

/** A described consumer group. */
export interface GroupDescription {
  groupId: string
  /** Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Unknown. */
  state: string
  protocolType: string
  members: GroupMemberDescription[]
}

/** Committed offsets of a group on one topic. */
export interface TopicCommittedOffsets {
  topic: string
  partitions: PartitionOffset[]
}

/**
 * The admin operations evt uses. Obtained connected from a session (`session.admin()`); the
 * session closes it.
 * @throws EvtError (see the module doc) from every method.
 */
export interface KafkaAdmin {
  /** All topic names (internal ones included), unsorted. */
  listTopics(): Promise<string[]>
  /** Metadata of the given topics, or of all topics. @throws EvtError not-found for an unknown topic. */
  topicMetadata(topics?: string[]): Promise<TopicMetadata[]>
  /** Creates topics and waits for their leaders. */
  createTopics(topics: NewTopic[]): Promise<void>
  /**
   * Deletes topics (DeleteTopics) and waits for the controller's answer. Per topic: `deleted`, or
   * `not-found` (nothing to delete).
   * @throws EvtError connect (3) or refused (6, e.g. the broker has `delete.topic.enable=false` or the
   *   principal is not authorized) for other failures.
   */
  deleteTopics(topics: string[]): Promise<Array<{ topic: string; outcome: 'deleted' | 'not-found' }>>
  /**
   * The topic's configuration as the broker reports it (DescribeConfigs, resource type TOPIC):
   * every entry's name → value (null for a sensitive or unset value), defaults included.
   * @throws EvtError not-found (4) for an unknown topic.
   */
  topicConfig(topic: string): Promise<Record<string, string | null>>
  /** Low and high watermarks of every partition of a topic. */
  watermarks(topic: string): Promise<PartitionWatermarks[]>
  /** For each partition, the first offset whose timestamp is at or after `timestamp` (epoch ms); null when none. */
  offsetsForTime(topic: string, timestamp: number): Promise<PartitionOffset[]>
  /** All consumer groups. */
  listGroups(): Promise<GroupListing[]>
  /** The given groups (an unknown group comes back with state `Dead` and no members). */
  describeGroups(groupIds: string[]): Promise<GroupDescription[]>
  /** Committed offsets of a group: on the given topics, or on every topic it committed for. */
  committedOffsets(groupId: string, topics?: string[]): Promise<TopicCommittedOffsets[]>
  /** Sets a group's committed offsets on one topic (the group must have no active members). */
  setOffsets(groupId: string, topic: string, partitions: Array<{ partition: number; offset: number }>): Promise<void>
  /**
   * Deletes consumer groups (DeleteGroups) and their committed offsets. Per group: `deleted`,
   * `not-found` (nothing to delete) or `not-empty` (it has members: the broker refuses).
   * @throws EvtError connect (3) for other failures.
   */
  deleteGroups(groupIds: string[]): Promise<Array<{ groupId: string; outcome: 'deleted' | 'not-found' | 'not-empty' }>>
  /** Disconnects. Never throws. */
  close(): Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Raw partition reading

/** One partition to fetch from its leader, from `offset`. */
export interface FetchRequestPartition {
  topic: string
  partition: number
  offset: number
}

/** Tuning of one Fetch request. */
export interface FetchOptions {
  /** How long the broker may hold the request open when there is nothing new, ms. */
  maxWaitMs: number
  /** Bytes per partition (a larger first batch is still returned whole). */
  partitionMaxBytes: number
  /** Bytes for the whole response. */
  requestMaxBytes: number
  /** Batches containing none of these byte strings are not decoded into records (see the decoder's `needles`). */
  needles?: Buffer[]
}

/** Which offset a ListOffsets asks for: the earliest, the latest (last stable under read_committed), or by time (epoch ms). */
export type OffsetQuery = 'earliest' | 'latest' | { timestamp: number }

/**
 * The transport under evt's partition reader ({@link KafkaReader}): metadata, ListOffsets and
 * raw Fetch requests to partition leaders, for one isolation level. Fetch responses are decoded by
 * evt's own decoder (fetch-decoder.ts), so header order, duplicates and nulls are kept.
 * Errors are the client's own (the reader maps them and decides what to retry), except where noted.
 */
export interface FetchTransport {
  /** All topic names in the cluster (fresh metadata). */
  topicNames(): Promise<string[]>
  /** Loads (and from then on keeps refreshed) the metadata of these topics. */
  loadTopics(topics: string[]): Promise<void>
  /** Partitions of a loaded topic and their leaders, from the metadata held (no request). */
  leaders(topic: string): Array<{ partition: number; leader: number }>
  /** Offsets per partition; for a time, -1 when no record is at or after it. */
  listOffsets(request: Array<{ topic: string; partitions: number[] }>, query: OffsetQuery): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: number }> }>>
  /** One Fetch request to broker `leader` for these partitions; per-partition errors are in `errorCode`. */
  fetch(leader: number, partitions: FetchRequestPartition[], options: FetchOptions): Promise<FetchPartition[]>
  /** Reloads the metadata of the loaded topics (e.g. after a leader moved). */
  refreshMetadata(): Promise<void>
  /**
   * Opens the fetch connections to these brokers ahead of the first fetch (while offsets are still
   * being listed), so that the first fetch does not wait for a connect. Never throws: a broker that
   * cannot be reached fails at its first fetch, as without this.
   */
  prepareFetch?(leaders: number[]): Promise<void>
  /** Disconnects. Never throws. */
  close(): Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Compression of written record batches. */
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** A record to write, to an explicit partition (evt picks partitions itself: see partitioner.ts). */
export interface OutgoingRecord {
  partition: number
  key: Buffer | null
  /** null: a tombstone. */
  value: Buffer | null
  /** Written in this order, duplicates and null values kept. */
  headers: OrderedHeader[]
  /** Epoch ms; undefined = the producer's clock. */
  timestamp?: number
}

/** Where the records of one partition landed: the offset of the first of them. */
export interface PartitionBaseOffset {
  partition: number
  baseOffset: number
}

/**
 * An idempotent producer (acks all): records of one send go out in order, one request per
 * partition, and the broker's base offset per partition is returned.
 */
export interface KafkaWriter {
  /** @throws EvtError (usage when the broker refuses the records, e.g. too large). */
  send(topic: string, records: OutgoingRecord[], options?: { compression?: Compression }): Promise<PartitionBaseOffset[]>
  /** Disconnects. Never throws. */
  close(): Promise<void>
}

/**
 * A transactional producer with one transactional id. Connecting fences an earlier producer
 * with the same id (and settles its open transaction). One transaction at a time, each operation
 * awaited before the next: begin → sendOffsets and send… (in any order) → commit | abort.
 */
export interface TransactionalWriter {
  /** Starts a transaction. */
  begin(): Promise<void>
  /** Adds records to the open transaction (acks all). */
  send(topic: string, records: OutgoingRecord[]): Promise<void>
  /**
   * Adds records of several topics to the open transaction in one go (acks all): one Produce request
   * per partition leader, sent to the leaders in parallel, one record batch per partition (keep each
   * partition's share below the target's `max.message.bytes`, 1 MiB by default).
   */
  sendBatch(batches: Array<{ topic: string; records: OutgoingRecord[] }>): Promise<void>
  /**
   * Commits a consumer group's offsets of partitions of one topic (each the next offset to read)
   * within the open transaction (one AddOffsetsToTxn and one TxnOffsetCommit), each with an optional
   * metadata string (stored with the offset; at most the broker's `offset.metadata.max.bytes`, 4096
   * by default). Sent again in the same transaction, the later offsets of a partition win. As the
   * first request of a transaction it waits (briefly, within the operation deadline) while the
   * coordinator still completes the previous commit (Kafka's CONCURRENT_TRANSACTIONS), as Kafka
   * expects clients to.
   */
  sendOffsets(offsets: { group: string; topic: string; partitions: Array<{ partition: number; offset: number; metadata?: string }> }): Promise<void>
  /** Commits the open transaction. */
  commit(): Promise<void>
  /** Aborts the open transaction. Against a dead coordinator this may not answer: bound the wait. */
  abort(): Promise<void>
  /** Disconnects. Never throws (may take long against a dead broker: bound the wait). */
  close(): Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Consuming in a group

/** A record as a group consumer hands it out (the fields of evt's RawRecord, src/record.ts). */
export interface ConsumedRecord {
  topic: string
  partition: number
  /** Offset as a decimal string. */
  offset: string
  /** Epoch ms. */
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: OrderedHeader[]
}

/** The records of one partition from one fetch, committed records only (read_committed). */
export interface ConsumedBatch {
  topic: string
  partition: number
  /** The offset the fetch started at: every offset in `[fetchedOffset, nextOffset)` has been looked at. */
  fetchedOffset: number
  /** The offset after the batch, control records and aborted records included: what is committed after it. */
  nextOffset: number
  /** May be empty (a batch of transaction markers or aborted records only). */
  records: ConsumedRecord[]
}

/**
 * A member of a consumer group (Kafka assigns it partitions of the subscribed topics, and
 * rebalances when members come and go). Reads committed records only; starts from the earliest
 * offset where the group has committed nothing.
 */
export interface GroupConsumer {
  /**
   * Consumes until {@link GroupConsumer.stop}: for each batch, awaits `handle(batch)`, then commits
   * `nextOffset` for the batch's partition. Batches of one partition are handled one at a time, in
   * order; a batch whose handler has not finished is never committed (after a crash or a rebalance
   * the batch is read again). Resolves when stopped; rejects with the handler's error (after stopping).
   */
  run(handle: (batch: ConsumedBatch) => Promise<void>): Promise<void>
  /** Stops consuming and leaves the group (waits for the batch being handled). Never throws. */
  stop(): Promise<void>
}

// ---------------------------------------------------------------------------------------------
// The adapter

/**
 * What a client adapter provides: connected clients for one {@link Connection}. Each method
 * connects within `connection.timeoutMs` and returns a new client; the session decides what to
 * reuse and closes what it opened.
 * @throws EvtError connect/auth (exit 3) when connecting fails.
 */
export interface KafkaClient {
  readonly connection: Connection
  connectAdmin(): Promise<KafkaAdmin>
  connectFetchTransport(isolation: Isolation): Promise<FetchTransport>
  connectWriter(): Promise<KafkaWriter>
  connectTransactionalWriter(transactionalId: string): Promise<TransactionalWriter>
  /** Joins `groupId` subscribed to `topics` (see {@link GroupConsumer}). */
  connectGroupConsumer(groupId: string, topics: string[]): Promise<GroupConsumer>
}

/** Builds a {@link KafkaClient} for a connection (an adapter's factory). */
export type KafkaClientFactory = (connection: Connection) => KafkaClient
