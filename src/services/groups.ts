/**
 * `evt groups [group]`: consumer groups, their state and members, committed offsets and lag.
 */
import kafkajs from 'kafkajs'
import type { Admin } from 'kafkajs'
import type { Connection } from '../config/connection.ts'
import { notFoundError } from '../errors.ts'
import { withAdmin } from '../kafka/client.ts'
import { mapWithConcurrency } from '../util/concurrency.ts'

const { AssignerProtocol } = kafkajs

/** Committed offset and lag of one partition for one group. */
export interface PartitionLag {
  topic: string
  partition: number
  /** Committed offset (the next record the group will read), or null when none is committed. */
  committedOffset: string | null
  /** High watermark of the partition. */
  highWatermark: string
  /** high watermark − committed offset; with no commit, high − low (everything retained is unread). */
  lag: number
}

/** A member of a group, with the partitions assigned to it (when the protocol is `consumer`). */
export interface GroupMember {
  memberId: string
  clientId: string
  host: string
  assignments: Array<{ topic: string; partitions: number[] }>
}

/** A group as `evt groups` reports it (the `--json` contract). */
export interface GroupSummary {
  groupId: string
  /** Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Unknown. */
  state: string
  protocolType: string
  members: number
  /** Topics with committed offsets. */
  topics: string[]
  /** Sum of partition lags. */
  totalLag: number
}

/** One group in detail (`evt groups <group> --json`). */
export interface GroupDetail extends GroupSummary {
  memberDetails: GroupMember[]
  partitions: PartitionLag[]
}

/**
 * Committed offsets and lag of a group across all topics it committed for.
 * Shared by groups, trace (consumption per hop) and replay (old → new offsets).
 */
export async function groupLag(admin: Admin, groupId: string): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets({ groupId })
  const result: PartitionLag[] = []
  for (const { topic, partitions } of committed) {
    const watermarks = await admin.fetchTopicOffsets(topic).catch(() => [])
    for (const p of partitions) {
      const w = watermarks.find((x) => x.partition === p.partition)
      const high = w?.high ?? '0'
      const hasCommit = p.offset !== '-1'
      const base = hasCommit ? p.offset : (w?.low ?? '0')
      result.push({ topic, partition: p.partition, committedOffset: hasCommit ? p.offset : null, highWatermark: high, lag: Math.max(0, Number(high) - Number(base)) })
    }
  }
  return result
    .filter((p) => p.committedOffset !== null)
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
}

function decodeAssignment(buf: Buffer | undefined): Array<{ topic: string; partitions: number[] }> {
  if (!buf || buf.length === 0) return []
  try {
    const decoded = AssignerProtocol.MemberAssignment.decode(buf)
    return Object.entries(decoded?.assignment ?? {}).map(([topic, partitions]) => ({ topic, partitions: [...(partitions as number[])].sort((a, b) => a - b) }))
  } catch {
    return []
  }
}

/** Lists all consumer groups with state, members and total lag, sorted by id. */
export async function listGroups(connection: Connection): Promise<GroupSummary[]> {
  return withAdmin(connection, async (admin) => {
    const { groups } = await admin.listGroups()
    if (groups.length === 0) return []
    const { groups: described } = await admin.describeGroups(groups.map((g) => g.groupId))
    const summaries = await mapWithConcurrency(described, 4, async (d) => {
      const lags = await groupLag(admin, d.groupId)
      return {
        groupId: d.groupId,
        state: d.state,
        protocolType: d.protocolType || groups.find((g) => g.groupId === d.groupId)?.protocolType || '',
        members: d.members.length,
        topics: [...new Set(lags.map((l) => l.topic))],
        totalLag: lags.reduce((s, l) => s + l.lag, 0),
      }
    })
    return summaries.sort((a, b) => a.groupId.localeCompare(b.groupId))
  })
}

/**
 * One group in detail.
 * @throws EvtError not-found (4) when the group does not exist (state Dead and nothing committed).
 */
export async function describeGroup(connection: Connection, groupId: string): Promise<GroupDetail> {
  return withAdmin(connection, async (admin) => {
    const { groups } = await admin.describeGroups([groupId])
    const d = groups[0]
    const partitions = await groupLag(admin, groupId)
    if (!d || (d.state === 'Dead' && partitions.length === 0)) {
      const { groups: all } = await admin.listGroups()
      const close = all.map((g) => g.groupId).filter((id) => id.includes(groupId) || groupId.includes(id)).slice(0, 5)
      throw notFoundError(`consumer group "${groupId}" does not exist`, close.length ? `did you mean: ${close.join(', ')}` : 'list groups with: evt groups')
    }
    const memberDetails = d.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignments: d.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : [] }))
    return {
      groupId,
      state: d.state,
      protocolType: d.protocolType,
      members: d.members.length,
      topics: [...new Set(partitions.map((l) => l.topic))],
      totalLag: partitions.reduce((s, l) => s + l.lag, 0),
      memberDetails,
      partitions,
    }
  })
}
