/**
 * evt's {@link KafkaAdmin} on kafkajs's admin client. Every error is mapped to an EvtError
 * (mapKafkaError, naming the brokers); member assignments of `consumer` groups are decoded with
 * kafkajs's assigner protocol.
 */
import kafkajs from 'kafkajs'
import type { Admin, Kafka } from 'kafkajs'
import type { Connection } from '../../config/connection.ts'
import { EvtError, isCoordinatorNotReady, mapKafkaError } from '../../errors.ts'
import { connectWithin, operationDeadlineMs, watchdog } from '../deadline.ts'
import type { GroupDescription, KafkaAdmin, PartitionOffset, TopicCommittedOffsets, TopicMetadata } from '../types.ts'
import { retry } from '../retry.ts'
import { leaderMoved } from './transport.ts'

const { AssignerProtocol, ConfigResourceTypes } = kafkajs

function decodeAssignment(buf: Buffer | undefined): Array<{ topic: string; partitions: number[] }> {
  if (!buf || buf.length === 0) return []
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(buf)
    return Object.entries(decoded?.assignment ?? {}).map(([topic, partitions]) => ({ topic, partitions: [...(partitions as number[])].sort((a, b) => a - b) }))
  } catch {
    return []
  }
}

/** The Kafka error type of one group in a failed DeleteGroups (kafkajs's KafkaJSDeleteGroupsError, possibly wrapped by its retrier). */
function groupErrorType(err: unknown, groupId: string): string | undefined {
  for (let e = err as { groups?: Array<{ groupId: string; error?: { type?: string } }>; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const g = e.groups?.find((x) => x.groupId === groupId)
    if (g) return g.error?.type
  }
  return undefined
}

/** The Kafka error type of a failed DeleteTopics (kafkajs's KafkaJSDeleteTopicRecordsError / protocol error, possibly wrapped by its retrier). */
function topicErrorType(err: unknown): string | undefined {
  for (let e = err as { type?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 4; e = (e.originalError ?? e.cause) as typeof e, depth++) {
    if (typeof e.type === 'string') return e.type
  }
  return undefined
}

/** What a refused CreateTopics says, by the broker's error type: exit 2 for a request the broker cannot accept. */
const TOPIC_CREATION_ERRORS: Record<string, { kind: 'usage' | 'refused'; what: string; hint: string }> = {
  INVALID_REPLICATION_FACTOR: { kind: 'usage', what: 'the replication factor is invalid (more than the brokers available?)', hint: 'give -r at most the number of brokers (evt topics shows the replication of existing topics)' },
  INVALID_PARTITIONS: { kind: 'usage', what: 'the partition count is invalid', hint: 'give -p a number of partitions of 1 or more' },
  INVALID_CONFIG: { kind: 'usage', what: 'a -c entry is not a valid topic configuration (unknown name or bad value)', hint: 'see Kafka\'s topic configs (https://kafka.apache.org/documentation/#topicconfigs)' },
  INVALID_TOPIC_EXCEPTION: { kind: 'usage', what: 'the broker refused the topic name', hint: 'topic names are 1 to 249 characters of a-z, A-Z, 0-9, ".", "_" and "-"' },
  INVALID_REPLICA_ASSIGNMENT: { kind: 'usage', what: 'the replica assignment is invalid', hint: 'give -r at most the number of brokers' },
  POLICY_VIOLATION: { kind: 'refused', what: 'the broker\'s create-topic policy refused it', hint: 'ask the cluster\'s operators which settings its policy allows' },
}

/** The EvtError for a CreateTopics that the broker answered with a per-topic error (kafkajs's KafkaJSAggregateError, possibly wrapped), else undefined. */
function topicCreationError(err: unknown): EvtError | undefined {
  for (let e = err as { errors?: Array<{ type?: string; topic?: string }>; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = (e.originalError ?? e.cause) as typeof e, depth++) {
    for (const failed of e.errors ?? []) {
      const known = failed.type ? TOPIC_CREATION_ERRORS[failed.type] : undefined
      if (known) return new EvtError(known.kind, `cannot create topic${failed.topic ? ` "${failed.topic}"` : ''}: ${known.what} (${failed.type})`, { hint: known.hint, cause: err })
    }
  }
  return undefined
}

/** Kafka's "no offset" (-1, or anything negative) → null. */
function offsetOrNull(offset: string): number | null {
  const n = Number(offset)
  return n >= 0 ? n : null
}

/**
 * Connects a kafkajs admin within `connection.timeoutMs`.
 * @throws EvtError connect/auth (exit 3).
 */
export async function connectAdmin(connection: Connection, kafka: Kafka): Promise<KafkaAdmin> {
  const admin = kafka.admin({ retry: { retries: 3, initialRetryTime: 100, maxRetryTime: Math.min(connection.timeoutMs, 5000) } })
  await connectWithin(connection, 'connect', () => admin.connect(), () => admin.disconnect())
  return new KafkajsAdmin(admin, connection)
}

class KafkajsAdmin implements KafkaAdmin {
  private readonly admin: Admin
  private readonly connection: Connection

  constructor(admin: Admin, connection: Connection) {
    this.admin = admin
    this.connection = connection
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await watchdog('an admin request', operationDeadlineMs(this.connection), fn())
    } catch (err) {
      throw mapKafkaError(err, { brokers: this.connection.brokers })
    }
  }

  listTopics(): Promise<string[]> {
    return this.call(() => this.admin.listTopics())
  }

  topicMetadata(topics?: string[]): Promise<TopicMetadata[]> {
    return this.call(async () => {
      const meta = await this.admin.fetchTopicMetadata(topics ? { topics } : undefined)
      return meta.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })) }))
    })
  }

  createTopics(topics: Array<{ topic: string; partitions: number; replicationFactor?: number; config?: Record<string, string> }>): Promise<void> {
    return this.call(async () => {
      try {
        await this.admin.createTopics({
          waitForLeaders: true,
          topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: t.replicationFactor, configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })) })),
        })
      } catch (err) {
        throw topicCreationError(err) ?? err
      }
    })
  }

  async deleteTopics(topics: string[]): Promise<Array<{ topic: string; outcome: 'deleted' | 'not-found' }>> {
    const out: Array<{ topic: string; outcome: 'deleted' | 'not-found' }> = []
    // one topic per request, so an unknown topic is told apart from a failure of another
    for (const topic of topics) {
      try {
        await watchdog('an admin request', operationDeadlineMs(this.connection), this.admin.deleteTopics({ topics: [topic], timeout: this.connection.timeoutMs }))
        out.push({ topic, outcome: 'deleted' })
      } catch (err) {
        if (topicErrorType(err) === 'UNKNOWN_TOPIC_OR_PARTITION') out.push({ topic, outcome: 'not-found' })
        else throw mapKafkaError(err, { brokers: this.connection.brokers, topic })
      }
    }
    return out
  }

  topicConfig(topic: string): Promise<Record<string, string | null>> {
    return this.call(async () => {
      const { resources } = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] })
      const config: Record<string, string | null> = {}
      for (const r of resources) for (const e of r.configEntries) config[e.configName] = e.isSensitive ? null : (e.configValue ?? null)
      return config
    })
  }

  watermarks(topic: string): Promise<Array<{ partition: number; low: number; high: number }>> {
    return this.call(() => this.leaderRetry(async () => (await this.admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))))
  }

  offsetsForTime(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    return this.call(() => this.leaderRetry(async () => (await this.admin.fetchTopicOffsetsByTimestamp(topic, timestamp)).map((o) => ({ partition: o.partition, offset: offsetOrNull(o.offset) }))))
  }

  /**
   * ListOffsets through kafkajs's admin gives up on "not the leader": right after a topic is created (here or by
   * anyone) or a leader is elected, a broker can answer so for a moment. Asked again after a short wait, within
   * the operation's deadline.
   */
  private leaderRetry<T>(fn: () => Promise<T>): Promise<T> {
    return retry(() => fn(), { untilMs: operationDeadlineMs(this.connection), minDelayMs: 100, maxDelayMs: 1000, shouldRetry: leaderMoved })
  }

  listGroups(): Promise<Array<{ groupId: string; protocolType: string }>> {
    // a broker that has just started answers ListGroups with "the coordinator is loading" until it has read __consumer_offsets
    return this.call(() => retry(async () => (await this.admin.listGroups()).groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })), { untilMs: operationDeadlineMs(this.connection), minDelayMs: 100, maxDelayMs: 1000, shouldRetry: isCoordinatorNotReady }))
  }

  describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    return this.call(async () => {
      const { groups } = await this.admin.describeGroups(groupIds)
      return groups.map((d) => ({
        groupId: d.groupId,
        state: d.state,
        protocolType: d.protocolType,
        members: d.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignments: d.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : [] })),
      }))
    })
  }

  committedOffsets(groupId: string, topics?: string[]): Promise<TopicCommittedOffsets[]> {
    return this.call(async () => {
      const offsets = await this.admin.fetchOffsets(topics ? { groupId, topics } : { groupId })
      return offsets.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: offsetOrNull(p.offset), metadata: p.metadata ?? null })) }))
    })
  }

  async deleteGroups(groupIds: string[]): Promise<Array<{ groupId: string; outcome: 'deleted' | 'not-found' | 'not-empty' }>> {
    const out: Array<{ groupId: string; outcome: 'deleted' | 'not-found' | 'not-empty' }> = []
    // one group per request: kafkajs reports per-group errors only by failing the whole call
    for (const groupId of groupIds) {
      try {
        await watchdog('an admin request', operationDeadlineMs(this.connection), this.admin.deleteGroups([groupId]))
        out.push({ groupId, outcome: 'deleted' })
      } catch (err) {
        const failed = groupErrorType(err, groupId)
        if (failed === 'GROUP_ID_NOT_FOUND') out.push({ groupId, outcome: 'not-found' })
        else if (failed === 'NON_EMPTY_GROUP') out.push({ groupId, outcome: 'not-empty' })
        else throw mapKafkaError(err, { brokers: this.connection.brokers, group: groupId })
      }
    }
    return out
  }

  setOffsets(groupId: string, topic: string, partitions: Array<{ partition: number; offset: number }>): Promise<void> {
    return this.call(() => this.admin.setOffsets({ groupId, topic, partitions: partitions.map((p) => ({ partition: p.partition, offset: String(p.offset) })) }))
  }

  async close(): Promise<void> {
    await this.admin.disconnect().catch(() => {})
  }
}
