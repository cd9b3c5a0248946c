/**
 * evt's {@link KafkaAdmin} on kafkajs's admin client. Every error is mapped to an EvtError
 * (mapKafkaError, naming the brokers); member assignments of `consumer` groups are decoded with
 * kafkajs's assigner protocol.
 */
import kafkajs from 'kafkajs'
import type { Admin, Kafka } from 'kafkajs'
import type { Connection } from '../../config/connection.ts'
import { mapKafkaError } from '../../errors.ts'
import { connectWithin, operationDeadlineMs, watchdog } from '../deadline.ts'
import type { GroupDescription, KafkaAdmin, PartitionOffset, TopicCommittedOffsets, TopicMetadata } from '../types.ts'

const { AssignerProtocol } = kafkajs

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
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: t.replicationFactor, configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })) })),
      })
    })
  }

  watermarks(topic: string): Promise<Array<{ partition: number; low: number; high: number }>> {
    return this.call(async () => (await this.admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) })))
  }

  offsetsForTime(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    return this.call(async () => (await this.admin.fetchTopicOffsetsByTimestamp(topic, timestamp)).map((o) => ({ partition: o.partition, offset: offsetOrNull(o.offset) })))
  }

  listGroups(): Promise<Array<{ groupId: string; protocolType: string }>> {
    return this.call(async () => (await this.admin.listGroups()).groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })))
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
